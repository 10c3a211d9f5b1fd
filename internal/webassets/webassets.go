// Package webassets holds the third-party browser assets that myapi serves,
// embedded in the binary so that its pages work offline and never load a
// script from a CDN. Each asset is a file of a pinned npm package, fetched
// by fetch.sh after a hash check (see assets.tsv for versions and
// integrity hashes) and committed with the package's licence.
package webassets

import "embed"

// FS holds the assets, one directory per package (assets.tsv's first
// column): redoc/redoc.standalone.js and redoc/LICENSE, …
//
//go:embed redoc SHA256SUMS
var FS embed.FS
