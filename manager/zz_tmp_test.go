package manager

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
)

func TestTmpThroughput(t *testing.T) {
	e := newEnv(t)
	e.clock = &testClock{now: time.Now()}
	s := e.open()
	s.now = time.Now
	mustTenant(t, s, "a", 1000, 1)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := s.AllocateSector(workerCtx("w"), api.AllocateSpec{Thread: fmt.Sprint(i)})
			if err != nil || a == nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	t.Logf("200 concurrent allocations: %v", time.Since(start))
	start = time.Now()
	for i := 0; i < 200; i++ {
		s.AllocateSector(workerCtx("w"), api.AllocateSpec{Thread: fmt.Sprint("s", i)})
	}
	t.Logf("200 sequential allocations: %v", time.Since(start))
}
