package poseidon

import "fmt"

// fmtSscanf parses the "tN" keys of testdata/poseidon.json.
func fmtSscanf(key string, t *int) (int, error) { return fmt.Sscanf(key, "t%d", t) }
