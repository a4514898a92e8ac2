package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/types"
)

// Group commands under "chain". Other feature files may attach further
// subcommands to these in their own init functions.
var (
	chainAddrCmd = &cobra.Command{
		Use:   "addr",
		Short: "Filecoin address tools",
	}
	chainMsgCmd = &cobra.Command{
		Use:   "msg",
		Short: "Filecoin message tools: CIDs, CBOR, decoding",
	}
)

func init() {
	chainAddrCmd.AddCommand(newAddrInspectCmd())
	chainMsgCmd.AddCommand(newMsgCidCmd(), newMsgDecodeCmd())
	chainCmd.AddCommand(chainAddrCmd, chainMsgCmd)
}

// maxMsgInput bounds what "chain msg" reads: a SignedMessage is at most
// 64 KiB in the mpool, Params at most 2 MiB in CBOR; hex doubles that and
// JSON base64 adds a third.
const maxMsgInput = 8 << 20

// resetChainFlags restores every flag of cmd to its default after a run.
// Commands are package singletons, so in-process callers (tests) would
// otherwise see flags leak from one Execute into the next.
func resetChainFlags(cmd *cobra.Command) {
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		_ = f.Value.Set(f.DefValue)
		f.Changed = false
	})
}

// addrInspectOutput is the --json document of "chain addr inspect".
type addrInspectOutput struct {
	Protocol   byte    `json:"protocol"`
	Network    string  `json:"network"`
	Payload    string  `json:"payload"`
	Bytes      string  `json:"bytes"`
	ID         *uint64 `json:"id,omitempty"`
	Namespace  *uint64 `json:"namespace,omitempty"`
	Subaddress *string `json:"subaddress,omitempty"`
}

func newAddrInspectCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect [--json] ADDR",
		Short: "Validate an address and show its protocol, payload and binary form",
		Long: `Parse a Filecoin address string (f… or t…) with the strict go-address
rules — checksum, canonical base32, exact payload length, canonical ID — and
print its parts. Invalid addresses exit non-zero with the reason.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			defer resetChainFlags(cmd)
			s := strings.TrimSpace(args[0])
			a, err := address.Parse(s)
			if err != nil {
				return fmt.Errorf("invalid address %q: %w", s, err)
			}
			out := addrInspectOutput{
				Protocol: a.Protocol(),
				Network:  s[:1],
				Payload:  hex.EncodeToString(a.Payload()),
				Bytes:    hex.EncodeToString(a.Bytes()),
			}
			switch a.Protocol() {
			case address.ID:
				id, _ := address.IDOf(a) // valid: a was parsed as an ID address
				out.ID = &id
			case address.Delegated:
				p := a.Payload()
				ns, n := uvarint(p)
				sub := hex.EncodeToString(p[n:])
				out.Namespace, out.Subaddress = &ns, &sub
			}
			w := cmd.OutOrStdout()
			if asJSON {
				return printJSON(w, out)
			}
			fmt.Fprintf(w, "address:  %s\nprotocol: %d (%s)\nnetwork:  %s\npayload:  %s\nbytes:    %s\n",
				s, out.Protocol, protocolName(out.Protocol), out.Network, out.Payload, out.Bytes)
			if out.ID != nil {
				fmt.Fprintf(w, "id:       %d\n", *out.ID)
			}
			if out.Namespace != nil {
				fmt.Fprintf(w, "namespace: %d\nsubaddress: %s\n", *out.Namespace, *out.Subaddress)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// uvarint decodes the (already validated) namespace varint of an f4 payload.
func uvarint(b []byte) (uint64, int) {
	var v uint64
	for i, c := range b {
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, i + 1
		}
	}
	return v, len(b)
}

func protocolName(p byte) string {
	switch p {
	case address.ID:
		return "id"
	case address.SECP256K1:
		return "secp256k1"
	case address.Actor:
		return "actor"
	case address.BLS:
		return "bls"
	case address.Delegated:
		return "delegated"
	}
	return "unknown"
}

// chainMessage is a decoded Message or SignedMessage (exactly one is set).
type chainMessage struct {
	msg    *types.Message
	signed *types.SignedMessage
}

func (m chainMessage) cid() string {
	if m.signed != nil {
		return m.signed.Cid().String()
	}
	return m.msg.Cid().String()
}

func (m chainMessage) cbor() ([]byte, error) {
	if m.signed != nil {
		return m.signed.Serialize()
	}
	return m.msg.Serialize()
}

// errMsgInput is wrapped by every "chain msg" input error.
var errMsgInput = errors.New("bad message input")

// readMsgArg returns the bytes named by arg: "-" is stdin, an existing file
// is read, and anything else must be a hex string.
func readMsgArg(cmd *cobra.Command, arg string, allowHexArg bool) ([]byte, error) {
	if arg != "-" {
		if _, err := os.Stat(arg); err != nil {
			if allowHexArg {
				if isHex(strings.TrimSpace(arg)) {
					return []byte(strings.TrimSpace(arg)), nil
				}
				return nil, fmt.Errorf("%w: %q is neither a hex string nor a readable file (%w)", errMsgInput, arg, err)
			}
			return nil, err
		}
	}
	in, err := openInput(cmd, arg)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	data, err := io.ReadAll(io.LimitReader(in, maxMsgInput+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxMsgInput {
		return nil, fmt.Errorf("%w: more than %d bytes", errMsgInput, maxMsgInput)
	}
	return data, nil
}

func isHex(s string) bool {
	s = strings.TrimPrefix(s, "0x")
	if len(s) == 0 || len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// parseMessage detects the input format — Lotus JSON (starts with '{'),
// hex text, or raw CBOR — and decodes a Message or SignedMessage. The
// formats cannot be confused: CBOR messages start with 0x8a or 0x82,
// neither of which is printable.
func parseMessage(data []byte) (chainMessage, error) {
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) == 0:
		return chainMessage{}, fmt.Errorf("%w: empty", errMsgInput)
	case trimmed[0] == '{':
		return parseMessageJSON(trimmed)
	case isHex(string(trimmed)):
		raw, err := hex.DecodeString(strings.TrimPrefix(string(trimmed), "0x"))
		if err != nil {
			return chainMessage{}, fmt.Errorf("%w: %w", errMsgInput, err)
		}
		return parseMessageCBOR(raw)
	default:
		return parseMessageCBOR(data)
	}
}

func parseMessageCBOR(raw []byte) (chainMessage, error) {
	if len(raw) == 0 {
		return chainMessage{}, fmt.Errorf("%w: empty", errMsgInput)
	}
	switch raw[0] {
	case 0x8a: // array(10): Message
		m, err := types.DecodeMessage(raw)
		if err != nil {
			return chainMessage{}, fmt.Errorf("decoding message cbor: %w", err)
		}
		return chainMessage{msg: m}, nil
	case 0x82: // array(2): SignedMessage
		sm, err := types.DecodeSignedMessage(raw)
		if err != nil {
			return chainMessage{}, fmt.Errorf("decoding signed message cbor: %w", err)
		}
		return chainMessage{signed: sm}, nil
	default:
		return chainMessage{}, fmt.Errorf("%w: cbor starts with %#02x, want 0x8a (message) or 0x82 (signed message)", errMsgInput, raw[0])
	}
}

var (
	messageJSONFields = []string{"Version", "To", "From", "Nonce", "Value", "GasLimit", "GasFeeCap", "GasPremium", "Method", "Params", "CID"}
	signedJSONFields  = []string{"Message", "Signature", "CID"}
)

// checkJSONFields rejects unknown keys: a misspelt field would otherwise be
// silently zero and yield a different CID than the user meant to sign.
// encoding/json matches keys case-insensitively, and so does this check.
func checkJSONFields(obj map[string]json.RawMessage, allowed []string, what string) error {
	for k := range obj {
		ok := false
		for _, a := range allowed {
			if strings.EqualFold(k, a) {
				ok = true
				break
			}
		}
		if !ok {
			return fmt.Errorf("%w: unknown %s field %q", errMsgInput, what, k)
		}
	}
	return nil
}

func parseMessageJSON(data []byte) (chainMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return chainMessage{}, fmt.Errorf("%w: json: %w", errMsgInput, err)
	}
	if _, signed := lookupFold(obj, "Message"); signed {
		if err := checkJSONFields(obj, signedJSONFields, "signed message"); err != nil {
			return chainMessage{}, err
		}
		inner, _ := lookupFold(obj, "Message")
		if err := checkMessageJSON(inner); err != nil {
			return chainMessage{}, err
		}
		var sm types.SignedMessage
		if err := json.Unmarshal(data, &sm); err != nil {
			return chainMessage{}, fmt.Errorf("%w: %w", errMsgInput, err)
		}
		return chainMessage{signed: &sm}, nil
	}
	if err := checkMessageJSON(data); err != nil {
		return chainMessage{}, err
	}
	var m types.Message
	if err := json.Unmarshal(data, &m); err != nil {
		return chainMessage{}, fmt.Errorf("%w: %w", errMsgInput, err)
	}
	return chainMessage{msg: &m}, nil
}

func checkMessageJSON(data []byte) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return fmt.Errorf("%w: message json: %w", errMsgInput, err)
	}
	if err := checkJSONFields(obj, messageJSONFields, "message"); err != nil {
		return err
	}
	for _, req := range []string{"To", "From"} {
		if _, ok := lookupFold(obj, req); !ok {
			return fmt.Errorf("%w: message json lacks %q", errMsgInput, req)
		}
	}
	return nil
}

func lookupFold(obj map[string]json.RawMessage, key string) (json.RawMessage, bool) {
	for k, v := range obj {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// msgCidOutput is the --json document of "chain msg cid".
type msgCidOutput struct {
	CID  string `json:"cid"`
	CBOR string `json:"cbor"`
}

func newMsgCidCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "cid [--json] FILE|-",
		Short: "Compute the CID and CBOR of a Lotus-JSON Message or SignedMessage",
		Long: `Read a Message or SignedMessage in Lotus JSON (hex or raw CBOR are also
accepted) and print its CID and canonical CBOR. For a SignedMessage the CID
follows Lotus: a BLS-signed message is known by its unsigned message CID, a
secp256k1/delegated one by the CID of the signed CBOR — the CID to pass to
StateWaitMsg.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			defer resetChainFlags(cmd)
			data, err := readMsgArg(cmd, args[0], false)
			if err != nil {
				return err
			}
			m, err := parseMessage(data)
			if err != nil {
				return err
			}
			raw, err := m.cbor()
			if err != nil {
				return fmt.Errorf("encoding message: %w", err)
			}
			out := msgCidOutput{CID: m.cid(), CBOR: hex.EncodeToString(raw)}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cid:  %s\ncbor: %s\n", out.CID, out.CBOR)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// decodedMessage is the Lotus JSON form of a Message plus the decoded
// params. Field order follows Lotus.
type decodedMessage struct {
	Version           uint64
	To                address.Address
	From              address.Address
	Nonce             uint64
	Value             types.TokenAmount
	GasLimit          int64
	GasFeeCap         types.TokenAmount
	GasPremium        types.TokenAmount
	Method            types.MethodNum
	Params            []byte
	CID               map[string]string `json:"CID"`
	ParamsDecodedAs   string            `json:",omitempty"`
	ParamsDecoded     any               `json:",omitempty"`
	ParamsDecodeError string            `json:",omitempty"`
}

type decodedSigned struct {
	Message   decodedMessage
	Signature types.Signature
	CID       map[string]string `json:"CID"`
}

// describeMessage builds the output view. Params are decoded as miner-actor
// params when the method number is one of the miner methods this tool
// knows; whether To really is a miner cannot be known offline, so a decode
// failure is reported in ParamsDecodeError rather than failing the command.
func describeMessage(m *types.Message) decodedMessage {
	d := decodedMessage{
		Version: m.Version, To: m.To, From: m.From, Nonce: m.Nonce, Value: m.Value,
		GasLimit: m.GasLimit, GasFeeCap: m.GasFeeCap, GasPremium: m.GasPremium,
		Method: m.Method, Params: m.Params,
		CID: map[string]string{"/": m.Cid().String()},
	}
	if _, err := miner.NewParams(m.Method); err == nil {
		d.ParamsDecodedAs = "miner." + miner.MethodName(m.Method)
		v, err := miner.DecodeParams(m.Method, m.Params)
		if err != nil {
			d.ParamsDecodeError = err.Error()
		} else {
			d.ParamsDecoded = v
		}
	}
	return d
}

func newMsgDecodeCmd() *cobra.Command {
	var (
		asJSON  bool
		network string
	)
	cmd := &cobra.Command{
		Use:   "decode [--json] HEX|FILE|-",
		Short: "Decode message CBOR (or JSON) to Lotus JSON, with miner params decoded",
		Long: `Decode a Message or SignedMessage given as a hex argument, or in a file
(or stdin "-") holding hex, raw CBOR or Lotus JSON, and print it as Lotus
JSON. Params of miner methods 5, 11, 16, 28, 34, 36 and the legacy 6, 7, 25,
26 are also shown decoded under "ParamsDecoded" (the method number alone
decides; "ParamsDecodeError" explains params that do not decode).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			defer resetChainFlags(cmd)
			if network != "f" && network != "t" {
				return fmt.Errorf("bad --network %q: want f (mainnet) or t (testnet)", network)
			}
			// Addresses carry no network in CBOR; the prefix is a display
			// choice, restored afterwards for in-process callers.
			defer address.SetNetwork(address.SetNetwork(address.Network(network[0])))
			data, err := readMsgArg(cmd, args[0], true)
			if err != nil {
				return err
			}
			m, err := parseMessage(data)
			if err != nil {
				return err
			}
			if _, err := m.cbor(); err != nil {
				return fmt.Errorf("encoding message: %w", err)
			}
			var out any
			if m.signed != nil {
				out = decodedSigned{
					Message:   describeMessage(&m.signed.Message),
					Signature: m.signed.Signature,
					CID:       map[string]string{"/": m.cid()},
				}
			} else {
				out = describeMessage(m.msg)
			}
			w := cmd.OutOrStdout()
			if asJSON {
				return printJSON(w, out)
			}
			enc := json.NewEncoder(w)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print compact JSON (default: indented)")
	cmd.Flags().StringVar(&network, "network", "t", "address prefix to print: f (mainnet) or t (testnet)")
	return cmd
}
