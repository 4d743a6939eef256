// Package vuln is Vigie's vulnerability watch: it describes the running
// binary as a CycloneDX 1.5 bill of materials (SBOM) from the build
// information the Go linker embeds, and checks the module versions it lists
// against a vulnerability database in OSV format that the operator imports
// (LoadOSV, Check). Nothing here touches the network: the database is a
// directory or a .zip copied onto the machine, typically the data/osv folder
// of the Go vulnerability database (module golang.org/x/vulndb), so that a
// département can run the watch without sending its bill of materials
// abroad.
//
// What a finding means. Check compares versions only: a finding says that a
// module (or the standard library, for the Go version that built the
// binary) lies inside a vulnerable range of a report. It does not say that
// the vulnerable function is reachable from Vigie's code; govulncheck
// (golang.org/x/vuln) decides that with a call graph, and reads the same
// database offline with -db file://. A finding is therefore a reason to
// upgrade or to look closer, and no finding is stronger evidence than a
// reachability verdict (within the database's date).
//
// Versions follow the Go vulnerability database's conventions: OSV versions
// are semantic versions without the leading "v"; the standard library is the
// module "stdlib" at the Go version ("go1.26.8" is 1.26.8); reports about
// the "toolchain" module concern the go command, not a built binary, and are
// not matched. Withdrawn reports are loaded but never matched.
package vuln
