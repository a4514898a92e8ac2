package sectorfsm

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestScripts runs the scenario files in testdata/fsm. A file is a list of
// commands, each followed by "----" and its expected output up to a blank
// line; lines starting with # are comments. Commands:
//
//	new [max-retries=N]   start a fresh record (and policy)
//	event <kind> [k=v…]   step an event (see parseEvent)
//	restart               persist the record as JSON, decode it, step Restart
//	show                  print the record as persisted (JSON)
//
// Run with -update to rewrite the expected outputs, then review the diff.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/fsm/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) { runScript(t, path) })
	}
}

type scriptEnv struct {
	m   Machine
	rec Record
}

func runScript(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	env := &scriptEnv{rec: New()}
	var out strings.Builder
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			out.WriteString(line + "\n")
			continue
		}
		if i+1 >= len(lines) || lines[i+1] != "----" {
			t.Fatalf("%s:%d: command %q not followed by ----", path, i+1, line)
		}
		lineNo := i + 1
		i += 2
		var want []string
		for ; i < len(lines) && lines[i] != ""; i++ {
			want = append(want, lines[i])
		}
		got, err := env.run(line)
		if err != nil {
			t.Fatalf("%s:%d: %s: %v", path, lineNo, line, err)
		}
		if !*update && got != strings.Join(want, "\n") {
			t.Errorf("%s:%d: %s\n got:\n%s\nwant:\n%s", path, lineNo, line, got, strings.Join(want, "\n"))
		}
		fmt.Fprintf(&out, "%s\n----\n%s\n", line, got)
		if i < len(lines) {
			out.WriteString("\n")
		}
	}
	if *update {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// run executes one command. A returned error is a broken script; FSM
// errors are output.
func (env *scriptEnv) run(line string) (string, error) {
	cmd, rest, _ := strings.Cut(line, " ")
	switch cmd {
	case "new":
		args, err := parseArgs(rest)
		if err != nil {
			return "", err
		}
		env.m = Machine{}
		if v, ok := args["max-retries"]; ok {
			if env.m.Policy.MaxRetries, err = strconv.Atoi(v); err != nil {
				return "", err
			}
		}
		env.rec = New()
		return env.rec.State.String(), nil
	case "event":
		ev, err := parseEvent(rest)
		if err != nil {
			return "", err
		}
		return env.step(ev)
	case "restart":
		data, err := json.Marshal(env.rec)
		if err != nil {
			return "", err
		}
		if env.rec, err = Decode(data); err != nil {
			return "", err
		}
		return env.step(Restart{})
	case "show":
		data, err := json.MarshalIndent(env.rec, "", "  ")
		return string(data), err
	}
	return "", fmt.Errorf("unknown command %q", cmd)
}

func (env *scriptEnv) step(ev Event) (string, error) {
	before := env.rec.clone()
	next, acts, err := env.m.Step(env.rec, ev)
	if err != nil {
		if !reflect.DeepEqual(next, before) || acts != nil {
			return "", fmt.Errorf("failed step changed the record or returned actions")
		}
		var ill *IllegalTransitionError
		kind := "bad event"
		if errors.As(err, &ill) {
			kind = "illegal"
		}
		return fmt.Sprintf("%s: %v", kind, err), nil
	}
	env.rec = next
	var b strings.Builder
	fmt.Fprintf(&b, "%s -> %s", before.State, next.State)
	if f := next.Failure; f != nil && !reflect.DeepEqual(f, before.Failure) {
		fmt.Fprintf(&b, "\nfailure: %s in %s at %s: %s", f.Level, f.State, f.Stage, f.Reason)
	}
	if next.Retries != before.Retries {
		fmt.Fprintf(&b, "\nretries: %d", next.Retries)
	}
	b.WriteString("\n" + formatActions(acts))
	return b.String(), nil
}
