package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/api/rpcapi"
)

// newAdminSignersCmd lists the SPs' signers connected to the manager:
// `sealant signer` processes and venus-wallets (through the gateway wallet
// API), each with the addresses it proved.
func newAdminSignersCmd(f *managerAPIFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "signers [TENANT]",
		Short: "List connected signers (sealant signer and venus-wallet) and the addresses they proved",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tenant := ""
			if len(args) == 1 {
				tenant = args[0]
			}
			c, err := f.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			ss, err := (&rpcapi.SignerAdminClient{C: c}).ConnectedSigners(cmd.Context(), tenant)
			if err != nil {
				return err
			}
			if asJSON {
				if ss == nil {
					ss = []api.SignerStatus{}
				}
				return printJSON(cmd.OutOrStdout(), ss)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TENANT\tKIND\tNAME\tREMOTE\tCONNECTED\tSIGNED\tREFUSED\tIN FLIGHT\tADDRESSES")
			for _, s := range ss {
				addrs := strings.Join(s.Addresses, ",")
				if len(s.Unproven) > 0 {
					addrs += " (unproven: " + strings.Join(s.Unproven, ",") + ")"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", s.Tenant, s.Kind, s.Name, s.Remote,
					fmtTime(s.ConnectedAt), s.Signed, s.Refused, s.InFlight, addrs)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
