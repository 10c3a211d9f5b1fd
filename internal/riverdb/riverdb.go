// Package riverdb is where the job queue (River, riverqueue/river) meets
// the database engines: each engine (internal/sqlite, internal/postgres)
// implements Engine with its own River driver, so that the job queue and
// River's migrations never ask which engine they run on.
package riverdb

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"myapi/internal/sqldb"
)

// Engine is a database the job queue runs on.
type Engine interface {
	// NewJobClient builds a River client on the engine's database.
	NewJobClient(cfg *river.Config) (Client, error)
	// MigrateRiver applies River's own migrations, which River versions
	// itself, and returns their names.
	MigrateRiver(ctx context.Context) ([]string, error)
}

// Client is a River client whose transaction type the engine keeps to
// itself.
type Client interface {
	// Start starts working jobs.
	Start(ctx context.Context) error
	// Stop waits for running jobs until ctx ends.
	Stop(ctx context.Context) error
	// StopAndCancel cancels running jobs and waits for them.
	StopAndCancel(ctx context.Context) error
	// Insert enqueues a job.
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	// InsertTx enqueues a job in tx, a transaction of the same engine.
	InsertTx(ctx context.Context, tx sqldb.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	// Jobs runs statements where River keeps its jobs.
	Jobs() sqldb.Querier
	// JobList, JobGet, JobRetry and JobCancel are River's, for the admin
	// console's view of the queue.
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	JobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
	JobRetry(ctx context.Context, id int64) (*rivertype.JobRow, error)
	JobCancel(ctx context.Context, id int64) (*rivertype.JobRow, error)
}

// NewClient builds the Client of an engine: driver is its River driver,
// native turns one of its sqldb.Tx into the driver's transaction, and
// jobs runs statements on the database River uses.
func NewClient[TTx any](driver riverdriver.Driver[TTx], cfg *river.Config, native func(sqldb.Tx) (TTx, bool), jobs sqldb.Querier) (Client, error) {
	c, err := river.NewClient(driver, cfg)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return client[TTx]{Client: c, native: native, jobs: jobs}, nil
}

type client[TTx any] struct {
	*river.Client[TTx]
	native func(sqldb.Tx) (TTx, bool)
	jobs   sqldb.Querier
}

func (c client[TTx]) InsertTx(ctx context.Context, tx sqldb.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	t, ok := c.native(tx)
	if !ok {
		return nil, fmt.Errorf("enqueue %s: transaction is a %T, not this engine's", args.Kind(), tx)
	}
	return c.Client.InsertTx(ctx, t, args, opts)
}

func (c client[TTx]) Jobs() sqldb.Querier { return c.jobs }

// Migrate applies River's migrations with driver and returns their names.
func Migrate[TTx any](ctx context.Context, driver riverdriver.Driver[TTx]) ([]string, error) {
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		return nil, fmt.Errorf("migrate river: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, fmt.Errorf("migrate river: %w", err)
	}
	names := make([]string, 0, len(res.Versions))
	for _, v := range res.Versions {
		names = append(names, fmt.Sprintf("river %03d %s", v.Version, v.Name))
	}
	return names, nil
}
