package sectorfsm

import "fmt"

// The package's enums (State, EventKind, Level, SubmitResult, OnChainState)
// are small closed sets. Their numbers are internal; what is persisted or
// logged is the stable name, so adding a member never renumbers stored data
// and an unknown name fails loudly instead of decoding into a wrong value.
// Index 0 of every names table is the invalid zero value.

// enumName returns names[v], or "<kind>(<n>)" for values outside the set.
func enumName[T ~uint8](v T, names []string, kind string) string {
	if v != 0 && int(v) < len(names) {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", kind, uint8(v))
}

// enumValid reports whether v is a member of the set.
func enumValid[T ~uint8](v T, names []string) bool {
	return v != 0 && int(v) < len(names)
}

// enumMarshal is the MarshalText of an enum: it refuses invalid values so
// a corrupt record is never written.
func enumMarshal[T ~uint8](v T, names []string, kind string) ([]byte, error) {
	if !enumValid(v, names) {
		return nil, fmt.Errorf("sectorfsm: cannot encode invalid %s %d", kind, uint8(v))
	}
	return []byte(names[v]), nil
}

// enumParse is the UnmarshalText of an enum.
func enumParse[T ~uint8](text []byte, names []string, kind string) (T, error) {
	for i := 1; i < len(names); i++ {
		if names[i] == string(text) {
			return T(i), nil
		}
	}
	return 0, fmt.Errorf("sectorfsm: unknown %s %q", kind, text)
}
