// Command extproc is a stand-in external processor for the worker's tests.
// It is deliberately not Sealant code: it speaks damocles' JSON-lines
// protocol from scratch, so the tests check the wire format, not a shared
// implementation.
//
//	extproc STAGE
//
// Environment:
//
//	EXTPROC_CRASH_MARKER  if set and the file does not exist: create it and
//	                      exit(3) on the first request (a crash mid-task)
//	EXTPROC_READY         the ready line to print (default "<stage> processor ready")
//
// Tasks: {"echo": s, "delay_ms": n, "fail": s} answer {"echo": s} after the
// delay, or err_msg = fail. For stage c2 any task gets a 192-byte proof
// derived from the task bytes, as an array of integers.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

func main() {
	stage := os.Args[1]
	ready := os.Getenv("EXTPROC_READY")
	if ready == "" {
		ready = stage + " processor ready"
	}
	fmt.Println(ready)
	var mu sync.Mutex
	write := func(v any) {
		b, _ := json.Marshal(v)
		mu.Lock()
		os.Stdout.Write(append(b, '\n'))
		mu.Unlock()
	}
	// A line that is not a response: the parent must skip it.
	mu.Lock()
	fmt.Println("noise: not json")
	mu.Unlock()
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	var wg sync.WaitGroup
	for sc.Scan() {
		var req struct {
			ID   uint64          `json:"id"`
			Task json.RawMessage `json:"task"`
		}
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			fmt.Fprintln(os.Stderr, "bad request:", err)
			continue
		}
		if m := os.Getenv("EXTPROC_CRASH_MARKER"); m != "" {
			if _, err := os.Stat(m); os.IsNotExist(err) {
				os.WriteFile(m, nil, 0o644)
				fmt.Fprintln(os.Stderr, "crashing on purpose")
				os.Exit(3)
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if stage == "c2" {
				sum := sha256.Sum256(req.Task)
				proof := make([]int, 192)
				for i := range proof {
					proof[i] = int(sum[i%32])
				}
				write(map[string]any{"id": req.ID, "err_msg": nil, "output": map[string]any{"proof": proof}})
				return
			}
			var t struct {
				Echo    string `json:"echo"`
				DelayMS int    `json:"delay_ms"`
				Fail    string `json:"fail"`
			}
			json.Unmarshal(req.Task, &t)
			time.Sleep(time.Duration(t.DelayMS) * time.Millisecond)
			if t.Fail != "" {
				write(map[string]any{"id": req.ID, "err_msg": t.Fail, "output": nil})
				return
			}
			write(map[string]any{"id": req.ID, "err_msg": nil, "output": map[string]string{"echo": t.Echo}})
		}()
	}
	wg.Wait()
}
