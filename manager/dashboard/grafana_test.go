package dashboard_test

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// TestGrafanaDashboardUsesExportedMetrics keeps deploy/grafana/sealant.json
// honest: every metric its queries name must be one a running manager
// (with tenants and allocated sectors, so the labelled series exist)
// actually exports, and the labels the panels group by must exist on it.
func TestGrafanaDashboardUsesExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/grafana/sealant.json")
	if err != nil {
		t.Fatalf("read dashboard: %v", err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}

	e := startManager(t)
	seed(t, e)
	fams, err := e.svc.Metrics().Registry.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	// Series names a query may use, with the labels each carries.
	series := map[string]map[string]bool{"up": {"job": true, "instance": true}}
	add := func(name string, m *dto.Metric) {
		if series[name] == nil {
			series[name] = map[string]bool{"job": true, "instance": true, "le": true}
		}
		for _, l := range m.GetLabel() {
			series[name][l.GetName()] = true
		}
	}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			if f.GetType() == dto.MetricType_HISTOGRAM {
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					add(f.GetName()+suffix, m)
				}
				continue
			}
			add(f.GetName(), m)
		}
	}

	metricRe := regexp.MustCompile(`\b((?:sealant|process|go)_[a-z0-9_]+|up)\b`)
	byRe := regexp.MustCompile(`by \(([^)]*)\)`)
	selRe := regexp.MustCompile(`\{([^}]*)\}`)
	labelRe := regexp.MustCompile(`([a-z_]+)\s*(?:=~|!~|!=|=)`)
	queries := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			queries++
			names := metricRe.FindAllString(tg.Expr, -1)
			if len(names) == 0 {
				t.Errorf("%s: query names no metric: %s", p.Title, tg.Expr)
			}
			for _, n := range names {
				if _, ok := series[n]; !ok {
					t.Errorf("%s: %s is not exported by the manager", p.Title, n)
					continue
				}
				var used []string
				for _, m := range byRe.FindAllStringSubmatch(tg.Expr, -1) {
					for _, l := range strings.Split(m[1], ",") {
						used = append(used, strings.TrimSpace(l))
					}
				}
				for _, m := range selRe.FindAllStringSubmatch(tg.Expr, -1) {
					for _, l := range labelRe.FindAllStringSubmatch(m[1], -1) {
						used = append(used, l[1])
					}
				}
				for _, l := range used {
					if !anySeriesHas(series, names, l) {
						t.Errorf("%s: label %q is on none of %v", p.Title, l, names)
					}
				}
			}
		}
	}
	if queries < 10 {
		t.Errorf("dashboard has %d queries; expected the full set", queries)
	}
}

func anySeriesHas(series map[string]map[string]bool, names []string, label string) bool {
	for _, n := range names {
		if series[n][label] {
			return true
		}
	}
	return false
}
