package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// RootOutput points a visitor to the docs and the health check.
type RootOutput struct {
	Body struct {
		Message string `json:"message" example:"Welcome to My API"`
		Docs    string `json:"docs" example:"/docs"`
		Health  string `json:"health" example:"/health"`
	}
}

// HealthOutput is the seed's health body.
type HealthOutput struct {
	Body struct {
		Status      string `json:"status" example:"ok"`
		App         string `json:"app" example:"My API"`
		Version     string `json:"version" example:"1.0.0"`
		Environment string `json:"environment" example:"production"`
	}
}

// ProbeOutput answers liveness and readiness probes.
type ProbeOutput struct {
	Body struct {
		Status string            `json:"status" example:"ok"`
		Checks map[string]string `json:"checks,omitempty" doc:"Each dependency and its state"`
	}
}

// readyTimeout bounds each readiness check: a probe must answer quickly
// even when a dependency hangs.
const readyTimeout = 2 * time.Second

func (s *server) registerMeta(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "root", Method: http.MethodGet, Path: "/", Summary: "Welcome", Tags: []string{"meta"},
	}, func(context.Context, *struct{}) (*RootOutput, error) {
		out := &RootOutput{}
		out.Body.Message = "Welcome to " + s.cfg.AppName
		out.Body.Docs = "/docs"
		out.Body.Health = "/health"
		return out, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "health", Method: http.MethodGet, Path: "/health", Summary: "Health check", Tags: []string{"health"},
	}, func(context.Context, *struct{}) (*HealthOutput, error) {
		out := &HealthOutput{}
		out.Body.Status = "ok"
		out.Body.App = s.cfg.AppName
		out.Body.Version = s.cfg.Version
		out.Body.Environment = s.cfg.Environment
		return out, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "health-live", Method: http.MethodGet, Path: "/health/live",
		Summary: "Liveness: the process answers", Tags: []string{"health"},
	}, func(context.Context, *struct{}) (*ProbeOutput, error) {
		out := &ProbeOutput{}
		out.Body.Status = "ok"
		return out, nil
	})

	huma.Register(api, huma.Operation{
		OperationID: "health-ready", Method: http.MethodGet, Path: "/health/ready",
		Summary: "Readiness: every dependency answers", Tags: []string{"health"},
		Errors: []int{http.StatusServiceUnavailable},
	}, func(ctx context.Context, _ *struct{}) (*ProbeOutput, error) {
		out := &ProbeOutput{}
		out.Body.Status = "ok"
		out.Body.Checks = map[string]string{}
		var failed []string
		for _, c := range s.Checks {
			cctx, cancel := context.WithTimeout(ctx, readyTimeout)
			err := c.Ping(cctx)
			cancel()
			if err != nil {
				s.Log.WarnContext(ctx, "readiness check failed", "check", c.Name, "error", err)
				failure := c.Failure
				if failure == "" {
					failure = c.Name + " unavailable"
				}
				failed = append(failed, failure)
				out.Body.Checks[c.Name] = "unavailable"
				continue
			}
			out.Body.Checks[c.Name] = "ok"
		}
		if len(failed) > 0 {
			return nil, huma.Error503ServiceUnavailable("Not ready: " + strings.Join(failed, ", "))
		}
		return out, nil
	})
}
