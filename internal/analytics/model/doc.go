// Package model holds the forecasting models that compete with the count
// baselines of package analytics, each a plain value behind
// analytics.Model:
//
//   - KDE: Gaussian kernel density of recent events (DefaultKDE);
//   - Prospective: prospective hotspotting, Bowers–Johnson near-repeat
//     weights decaying with distance and age (DefaultProspective, and
//     PublishedProspective, the 8 weeks / 400 m of the original paper);
//   - ETAS: a self-exciting point process after Mohler et al. (2011),
//     per-cell background plus exponential-in-time, Gaussian-in-space
//     triggering, fitted by expectation–maximisation on the year before the
//     period (DefaultETAS; Fit exposes the fitted parameters and convergence);
//   - Vigie: Vigie's combined model, a ridge-penalised Poisson regression on
//     long-term, yearly and monthly counts, near-repeat, neighbouring cells
//     and other sources' signals, re-fitted by rolling origin before each
//     forecast (DefaultVigie).
//
// Every model uses only events strictly before the period, even when handed
// more (TestNoFutureLeak), returns analytics.ErrTooLittleHistory when it
// cannot forecast, explains its flagged cells (analytics.Explainer) and
// describes itself (analytics.Carded). Defaults were chosen by Tune on
// 2017–2018 Chicago weeks only; 2019 is the held-out evaluation.
//
// Parse reads the command's --models list. The package has no state, no
// tables, no routes and no events; it is a sub-package of analytics because
// it imports it (the Model interface, Grid and Event), not the other way.
package model
