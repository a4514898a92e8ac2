// Command sealant is the single binary of the Sealant sealing-as-a-service
// platform. Every role (proof tools, chain tools, devnet, manager, worker,
// signer, receiver) is a subcommand; see docs/architecture.md.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	root := newRootCmd()
	if err := root.Execute(); err != nil {
		// One line, no usage dump: acceptance scripts and operators read the
		// first line of stderr, so it must name the problem.
		fmt.Fprintf(os.Stderr, "sealant: %v\n", err)
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}
