package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"myapi/internal/access"
)

// Welcome points a visitor to the docs and the health check.
type Welcome struct {
	Message string `json:"message" example:"Welcome to My API"`
	Docs    string `json:"docs" example:"/docs" doc:"Path of the interactive documentation"`
	Health  string `json:"health" example:"/health" doc:"Path of the health check"`
}

// RootOutput wraps Welcome.
type RootOutput struct {
	Body Welcome
}

// Health is the seed's health body.
type Health struct {
	Status      string `json:"status" enum:"ok" example:"ok"`
	App         string `json:"app" example:"My API" doc:"The APP_NAME setting"`
	Version     string `json:"version" example:"1.0.0" doc:"The APP_VERSION setting"`
	Environment string `json:"environment" example:"production" doc:"The ENVIRONMENT setting"`
}

// HealthOutput wraps Health.
type HealthOutput struct {
	Body Health
}

// Probe answers liveness and readiness probes.
type Probe struct {
	Status string            `json:"status" enum:"ok" example:"ok"`
	Checks map[string]string `json:"checks,omitempty" doc:"Each dependency and its state (readiness only)"`
}

// ProbeOutput wraps Probe.
type ProbeOutput struct {
	Body Probe
}

// readyTimeout bounds each readiness check: a probe must answer quickly
// even when a dependency hangs.
const readyTimeout = 2 * time.Second

func (s *server) registerMeta(api huma.API) {
	health := tag(api, "health", "Liveness and readiness probes and the seed's health check; never rate limited.")
	meta := tag(api, "meta", "Where the documentation and the health check are.")
	register(s, api, huma.Operation{
		OperationID: "root", Method: http.MethodGet, Path: "/", Summary: "Welcome", Tags: meta,
		Description: "Points to the interactive documentation and to the health check.",
	}, access.Anyone(), access.None, func(context.Context, *struct{}) (*RootOutput, error) {
		out := &RootOutput{}
		out.Body.Message = "Welcome to " + s.cfg.AppName
		out.Body.Docs = "/docs"
		out.Body.Health = "/health"
		return out, nil
	})

	register(s, api, huma.Operation{
		OperationID: "health", Method: http.MethodGet, Path: "/health", Summary: "Health check", Tags: health,
		Description: "The seed's health check: 200 with the app's name, version and environment while the process runs. " +
			"Probes should prefer `/health/live` and `/health/ready`.",
	}, access.Anyone(), access.None, func(context.Context, *struct{}) (*HealthOutput, error) {
		out := &HealthOutput{}
		out.Body.Status = "ok"
		out.Body.App = s.cfg.AppName
		out.Body.Version = s.cfg.Version
		out.Body.Environment = s.cfg.Environment
		return out, nil
	})

	register(s, api, huma.Operation{
		OperationID: "health-live", Method: http.MethodGet, Path: "/health/live",
		Summary: "Liveness: the process answers", Tags: health,
		Description: "200 while the process answers. It asks no dependency, so a slow database never gets a healthy process restarted.",
	}, access.Anyone(), access.None, func(context.Context, *struct{}) (*ProbeOutput, error) {
		out := &ProbeOutput{}
		out.Body.Status = "ok"
		return out, nil
	})

	register(s, api, huma.Operation{
		OperationID: "health-ready", Method: http.MethodGet, Path: "/health/ready",
		Summary: "Readiness: every dependency answers", Tags: health,
		Description: "200 when every dependency (the database, and Redis when configured) answers within 2 seconds; " +
			"503 naming those that do not, and while the server drains before it stops.",
		Errors: []int{http.StatusServiceUnavailable},
	}, access.Anyone(), access.None, func(ctx context.Context, _ *struct{}) (*ProbeOutput, error) {
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
