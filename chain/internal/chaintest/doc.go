// Package chaintest holds the few helpers the chain packages' tests share:
// decoding hex and loading the JSON vector files each package copies into
// its testdata/. It exists so those helpers are written once; it is
// internal because nothing outside the chain tree should depend on test
// plumbing.
package chaintest
