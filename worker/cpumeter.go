package worker

import (
	"sync"
	"syscall"
	"time"

	"github.com/sealant/sealant/worker/sectorfsm"
)

// meteredStages maps compute actions to the stage names the manager meters
// CPU usage by (api.StateReport.CPUSeconds).
var meteredStages = map[string]string{
	sectorfsm.AddPieces{}.Name():  StageAddPieces,
	sectorfsm.BuildTreeD{}.Name(): StageTreeD,
	sectorfsm.RunPC1{}.Name():     StagePC1,
	sectorfsm.RunPC2{}.Name():     StagePC2,
	sectorfsm.RunC1{}.Name():      StageC1,
	sectorfsm.RunC2{}.Name():      StageC2,
	sectorfsm.Finalize{}.Name():   "finalize",
}

// cpuMeter attributes the worker process's CPU time to the compute actions
// running in it. Go cannot measure a goroutine's CPU time, so the process
// total (getrusage) is sampled whenever an action starts or ends and each
// interval's CPU is split equally among the actions running in it. With one
// action at a time this is exact; with several it is a fair estimate. CPU
// used by external processors is not included (their own accounting
// applies). Safe for concurrent use.
type cpuMeter struct {
	mu     sync.Mutex
	last   time.Duration
	active map[*cpuTicket]struct{}
}

type cpuTicket struct{ acc time.Duration }

func newCPUMeter() *cpuMeter { return &cpuMeter{active: map[*cpuTicket]struct{}{}} }

func processCPU() time.Duration {
	var r syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r); err != nil {
		return 0
	}
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

func (m *cpuMeter) advance() {
	now := processCPU()
	d := now - m.last
	m.last = now
	if n := len(m.active); n > 0 && d > 0 {
		share := d / time.Duration(n)
		for t := range m.active {
			t.acc += share
		}
	}
}

func (m *cpuMeter) start() *cpuTicket {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advance()
	t := &cpuTicket{}
	m.active[t] = struct{}{}
	return t
}

func (m *cpuMeter) stop(t *cpuTicket) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.advance()
	delete(m.active, t)
	return t.acc
}
