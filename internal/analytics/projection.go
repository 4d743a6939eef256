package analytics

import (
	"fmt"
	"math"
)

// Projection turns WGS84 degrees into metres on a plane. Every projection
// here is conformal, so a small square on the ground stays a square.
type Projection interface {
	Forward(lon, lat float64) (x, y float64)
	Name() string
}

// Ellipsoid is a reference ellipsoid by semi-major axis and flattening.
type Ellipsoid struct{ A, F float64 }

// GRS80 is the ellipsoid of RGF93 (Lambert-93) and of the overseas RGxx
// frames; WGS84 differs from it by 0.1 mm in the semi-minor axis.
var GRS80 = Ellipsoid{A: 6378137, F: 1 / 298.257222101}

func (e Ellipsoid) ecc() float64 { return math.Sqrt(e.F * (2 - e.F)) }

// isoLat is the isometric latitude (IGN algorithm ALG0001).
func isoLat(phi, e float64) float64 {
	s := math.Sin(phi)
	return math.Atanh(s) - e*math.Atanh(e*s)
}

// LambertConic is the ellipsoidal Lambert conformal conic projection, in
// the form IGN publishes it (notes NT/G 71, algorithms ALG0003 and ALG0054):
// exponent N, constant C, pole coordinates Xs, Ys, central meridian Lon0
// (radians), on an ellipsoid of eccentricity E.
type LambertConic struct {
	Label        string
	E, N, C      float64
	Xs, Ys, Lon0 float64
}

// NewLambertSecant builds a secant Lambert conic from its standard
// parallels lat1, lat2, origin (lon0, lat0) in degrees and false easting and
// northing in metres (ALG0054).
func NewLambertSecant(label string, ell Ellipsoid, lat1, lat2, lon0, lat0, x0, y0 float64) LambertConic {
	e := ell.ecc()
	p1, p2, p0 := rad(lat1), rad(lat2), rad(lat0)
	gn := func(phi float64) float64 { // prime vertical radius
		s := math.Sin(phi)
		return ell.A / math.Sqrt(1-e*e*s*s)
	}
	l1, l2 := isoLat(p1, e), isoLat(p2, e)
	n := math.Log(gn(p2)*math.Cos(p2)/(gn(p1)*math.Cos(p1))) / (l1 - l2)
	c := gn(p1) * math.Cos(p1) / n * math.Exp(n*l1)
	return LambertConic{
		Label: label, E: e, N: n, C: c,
		Xs: x0, Ys: y0 + c*math.Exp(-n*isoLat(p0, e)), Lon0: rad(lon0),
	}
}

// Lambert93 is EPSG:2154 (RGF93 / Lambert-93), the official projection of
// metropolitan France.
var Lambert93 = NewLambertSecant("Lambert-93 (EPSG:2154)", GRS80, 49, 44, 3, 46.5, 700000, 6600000)

func (p LambertConic) Name() string { return p.Label }

// Forward implements ALG0003.
func (p LambertConic) Forward(lon, lat float64) (x, y float64) {
	r := p.C * math.Exp(-p.N*isoLat(rad(lat), p.E))
	g := p.N * (rad(lon) - p.Lon0)
	return p.Xs + r*math.Sin(g), p.Ys - r*math.Cos(g)
}

// TransverseMercator is the ellipsoidal transverse Mercator projection by
// Krüger's series to order n⁴ (the form of Karney 2011 and of PROJ's etmerc),
// accurate to well under a millimetre within a UTM zone and to centimetres
// several degrees beyond it.
type TransverseMercator struct {
	Label       string
	e, a, k0    float64
	lon0        float64
	x0, y0, xi0 float64
	alpha       [4]float64
}

// NewTransverseMercator builds a transverse Mercator with central meridian
// lon0 and origin latitude lat0 (degrees), scale k0 on the central meridian,
// and false easting and northing x0, y0 (metres).
func NewTransverseMercator(label string, ell Ellipsoid, lon0, lat0, k0, x0, y0 float64) TransverseMercator {
	n := ell.F / (2 - ell.F)
	n2, n3, n4 := n*n, n*n*n, n*n*n*n
	t := TransverseMercator{
		Label: label, e: ell.ecc(), k0: k0, lon0: rad(lon0), x0: x0, y0: y0,
		a: ell.A / (1 + n) * (1 + n2/4 + n4/64),
		alpha: [4]float64{
			n/2 - 2*n2/3 + 5*n3/16 + 41*n4/180,
			13*n2/48 - 3*n3/5 + 557*n4/1440,
			61*n3/240 - 103*n4/140,
			49561 * n4 / 161280,
		},
	}
	t.xi0, _ = t.xiEta(rad(lat0), 0)
	return t
}

// UTM returns the universal transverse Mercator projection of a zone
// (1 to 60) in the northern or southern hemisphere, e.g. UTM(40, true) for
// La Réunion (EPSG:2975, RGR92 / UTM 40S).
func UTM(zone int, south bool) TransverseMercator {
	y0, h := 0.0, "N"
	if south {
		y0, h = 10000000, "S"
	}
	return NewTransverseMercator(fmt.Sprintf("UTM %d%s", zone, h), GRS80, float64(zone*6-183), 0, 0.9996, 500000, y0)
}

func (t TransverseMercator) Name() string { return t.Label }

// xiEta returns the Gauss-Krüger coordinates (unitless) of a point, phi the
// latitude and dl the longitude from the central meridian, in radians.
func (t TransverseMercator) xiEta(phi, dl float64) (xi, eta float64) {
	tau := math.Sinh(isoLat(phi, t.e)) // tangent of the conformal latitude
	xiP := math.Atan2(tau, math.Cos(dl))
	etaP := math.Asinh(math.Sin(dl) / math.Hypot(tau, math.Cos(dl)))
	xi, eta = xiP, etaP
	for j, a := range t.alpha {
		k := 2 * float64(j+1)
		xi += a * math.Sin(k*xiP) * math.Cosh(k*etaP)
		eta += a * math.Cos(k*xiP) * math.Sinh(k*etaP)
	}
	return xi, eta
}

func (t TransverseMercator) Forward(lon, lat float64) (x, y float64) {
	dl := math.Remainder(rad(lon)-t.lon0, 2*math.Pi)
	xi, eta := t.xiEta(rad(lat), dl)
	return t.x0 + t.k0*t.a*eta, t.y0 + t.k0*t.a*(xi-t.xi0)
}

func rad(deg float64) float64 { return deg * math.Pi / 180 }

// overseas maps the French overseas départements to their official UTM
// projection (IGN): the box is generous around each territory.
var overseas = []struct {
	dept                           string
	lonMin, lonMax, latMin, latMax float64
	zone                           int
	south                          bool
}{
	{"971 Guadeloupe (RGAF09 / UTM 20N)", -62, -60.8, 15.8, 18.2, 20, false},
	{"972 Martinique (RGAF09 / UTM 20N)", -61.4, -60.7, 14.3, 15, 20, false},
	{"973 Guyane (RGFG95 / UTM 22N)", -54.7, -51.5, 2, 6, 22, false},
	{"974 La Réunion (RGR92 / UTM 40S)", 55, 56, -21.5, -20.8, 40, true},
	{"976 Mayotte (RGM04 / UTM 38S)", 44.9, 45.4, -13.1, -12.5, 38, true},
}

// ProjectionFor chooses the projection for a boundary from its centroid:
// Lambert-93 in metropolitan France and Corsica, the official UTM zone in the
// overseas départements, and elsewhere a transverse Mercator centred on the
// centroid with scale 1 on its meridian, so that grid metres are ground
// metres (within 0.003 % 50 km from the centre: a 250 m cell is a 250 m
// square). A local transverse Mercator is preferred to the UTM zone there
// because UTM's 0.9996 scale would make "250 m" cells 250.1 m wide, and to an
// azimuthal equidistant projection because it is conformal (cells stay
// square, not only distances from the centre true).
func ProjectionFor(b Boundary) Projection {
	lon, lat := b.Centroid()
	if lon >= -5.5 && lon <= 10 && lat >= 41 && lat <= 51.5 {
		return Lambert93
	}
	for _, o := range overseas {
		if lon >= o.lonMin && lon <= o.lonMax && lat >= o.latMin && lat <= o.latMax {
			u := UTM(o.zone, o.south)
			u.Label = o.dept
			return u
		}
	}
	return NewTransverseMercator(fmt.Sprintf("local transverse Mercator (%.4f, %.4f)", lon, lat), GRS80, lon, lat, 1, 0, 0)
}

// Centroid is the area-weighted centroid of the outer rings minus holes, in
// degrees (planar on degrees: good enough to centre a projection).
func (b Boundary) Centroid() (lon, lat float64) {
	var sa, sx, sy float64
	add := func(r Ring, sign float64) {
		a, mx, my := ringMoments(r)
		if a < 0 { // clockwise ring: same area and moments, opposite sign
			a, mx, my = -a, -mx, -my
		}
		sa, sx, sy = sa+sign*a, sx+sign*mx, sy+sign*my
	}
	for _, p := range b.Polygons {
		add(p.Outer, 1)
		for _, h := range p.Holes {
			add(h, -1)
		}
	}
	if sa == 0 {
		return 0, 0
	}
	return sx / sa, sy / sa
}

// ringMoments returns the signed area and first moments (times the area) of
// a ring by the shoelace formula.
func ringMoments(r Ring) (a, mx, my float64) {
	for i := 0; i+1 < len(r); i++ {
		p, q := r[i], r[i+1]
		c := p[0]*q[1] - q[0]*p[1]
		a += c
		mx += (p[0] + q[0]) * c
		my += (p[1] + q[1]) * c
	}
	return a / 2, mx / 6, my / 6
}
