package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sealant/sealant/api"
)

func init() {
	var f managerAPIFlags
	sectors := &cobra.Command{
		Use:   "sectors",
		Short: "List, show and export sectors (a tenant token sees its own; an admin token sees all)",
	}
	f.bind(sectors)

	var req api.SectorListRequest
	var listJSON bool
	list := &cobra.Command{
		Use: "list", Short: "List sectors", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ss []api.SectorInfo
			if err := f.tenant(cmd.Context(), func(t api.TenantAPI) (err error) { ss, err = t.ListSectors(cmd.Context(), req); return err }); err != nil {
				return err
			}
			return printSectors(cmd, ss, listJSON)
		},
	}
	list.Flags().StringVar(&req.Tenant, "tenant", "", "only this tenant (admin tokens)")
	list.Flags().StringVar(&req.Phase, "phase", "", "active, finalized or aborted")
	list.Flags().StringVar(&req.Worker, "worker", "", "only sectors leased by this worker identity (worker/thread)")
	list.Flags().IntVar(&req.Limit, "limit", 0, "at most this many (0 = 1000)")
	list.Flags().BoolVar(&listJSON, "json", false, "print JSON")

	var showJSON bool
	show := &cobra.Command{
		Use: "show SECTOR", Short: "Show a sector with its pieces and history (SECTOR: MINER:N or s-t0MINER-N)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := api.ParseSectorID(args[0])
			if err != nil {
				return err
			}
			var d api.SectorDetail
			if err := f.tenant(cmd.Context(), func(t api.TenantAPI) (err error) { d, err = t.ShowSector(cmd.Context(), id); return err }); err != nil {
				return err
			}
			if showJSON {
				return printJSON(cmd.OutOrStdout(), d)
			}
			w := cmd.OutOrStdout()
			s := d.Sector
			fmt.Fprintf(w, "sector %s  tenant %s  proof %d\nstate %s  phase %s  worker %s  lease until %s (expired: %v)\n",
				s.ID, s.Tenant, s.ProofType, s.State, s.Phase, s.Worker, fmtTime(s.LeaseExpires), s.LeaseExpired)
			if s.AbortReason != "" {
				fmt.Fprintf(w, "abort reason: %s\n", s.AbortReason)
			}
			if s.CommR != "" {
				fmt.Fprintf(w, "comm_r %s\ncomm_d %s\n", s.CommR, s.CommD)
			}
			for _, p := range d.Pieces {
				fmt.Fprintf(w, "piece %s size %d from %s\n", p.PieceCID, p.Size, p.SourceURL)
			}
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "AT\tWORKER\tPREV\tNEXT\tEVENT\tFAILURE")
			for _, h := range d.History {
				fail := ""
				if h.Failure != nil {
					fail = string(h.Failure.Level) + ": " + h.Failure.Desc
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", fmtTime(h.At), h.Worker, h.Prev, h.Next, h.Event, fail)
			}
			return tw.Flush()
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")

	export := &cobra.Command{
		Use: "export SECTOR", Short: "Print a sector's metadata (commitments, randomness, messages, pieces, files) as JSON", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := api.ParseSectorID(args[0])
			if err != nil {
				return err
			}
			var m api.SectorMetadata
			if err := f.tenant(cmd.Context(), func(t api.TenantAPI) (err error) { m, err = t.ExportSector(cmd.Context(), id); return err }); err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), m)
		},
	}
	var piece api.PieceSubmission
	var pieceJSON bool
	addPiece := &cobra.Command{
		Use:   "add-piece --cid CID --size N --url URL",
		Short: "Queue a piece (CommP, padded size, http(s) source) for the tenant's next data sector (tenant token)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var res api.SubmitPiecesResponse
			if err := f.tenant(cmd.Context(), func(t api.TenantAPI) (err error) {
				res, err = t.SubmitPieces(cmd.Context(), []api.PieceSubmission{piece})
				return err
			}); err != nil {
				return err
			}
			if pieceJSON {
				return printJSON(cmd.OutOrStdout(), res)
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "queued as %v\n", res.Queued)
			return err
		},
	}
	addPiece.Flags().StringVar(&piece.PieceCID, "cid", "", "piece CID (CommP, baga…)")
	addPiece.Flags().Uint64Var(&piece.Size, "size", 0, "padded piece size in bytes (power of two)")
	addPiece.Flags().Uint64Var(&piece.PayloadSize, "payload-size", 0, "unpadded payload bytes (default size·127/128)")
	addPiece.Flags().StringVar(&piece.SourceURL, "url", "", "http(s) URL workers fetch the payload from")
	addPiece.Flags().BoolVar(&pieceJSON, "json", false, "print JSON")
	sectors.AddCommand(list, show, export, addPiece)
	extraRootCmds = append(extraRootCmds, sectors)
}

// printSectors prints sectors as a table or JSON.
func printSectors(cmd *cobra.Command, ss []api.SectorInfo, asJSON bool) error {
	if asJSON {
		if ss == nil {
			ss = []api.SectorInfo{}
		}
		return printJSON(cmd.OutOrStdout(), ss)
	}
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SECTOR\tTENANT\tPHASE\tSTATE\tWORKER\tLEASE")
	for _, s := range ss {
		lease := fmtTime(s.LeaseExpires)
		if s.LeaseExpired {
			lease += " (expired)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Tenant, s.Phase, s.State, s.Worker, lease)
	}
	return tw.Flush()
}
