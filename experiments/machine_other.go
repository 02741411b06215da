//go:build !unix

package experiments

// addressSpaceLimit is 0: no address-space limit is known.
func addressSpaceLimit() int64 { return 0 }
