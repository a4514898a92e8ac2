package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps one prepared *sql.Stmt per query text for a pool.
//
// Why: the pure-Go SQLite driver parses and plans every statement it is
// given, and on the manager's hot paths (polls, lease renewals,
// allocation) that parsing cost more than running the statement. A
// *sql.Stmt prepared on the pool is prepared once per connection and
// reused; inside a transaction Tx.StmtContext reuses the connection's
// prepared form. PostgreSQL needs none of this: pgx keeps its own
// per-connection statement cache, so the cache is nil there.
//
// Queries built per call (variable IN lists) could grow the cache without
// bound, so it stops adding entries at maxCachedStmts and runs the rest
// unprepared. A nil *stmtCache caches nothing.
type stmtCache struct {
	pool *sql.DB
	mu   sync.Mutex
	m    map[string]*sql.Stmt
	// pending are queries missed inside transactions, prepared by
	// prepareMissed once the transaction has released its connection.
	pending map[string]struct{}
}

// maxCachedStmts bounds a stmtCache; the package has far fewer distinct
// statements than this.
const maxCachedStmts = 1024

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{pool: pool, m: map[string]*sql.Stmt{}, pending: map[string]struct{}{}}
}

// get returns the cached statement for q, preparing it on first use; nil
// when caching is off, full, or preparation failed (the caller then runs
// q directly and gets the error from there, with its context). It must
// not be called while holding one of the pool's connections.
func (c *stmtCache) get(ctx context.Context, q string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	st, ok := c.m[q]
	c.mu.Unlock()
	if ok {
		return st
	}
	return c.prepare(ctx, q)
}

// prepare prepares q on the pool and caches it. The lock is not held while
// preparing: preparing waits for a free connection, and the goroutine
// holding one may need the lock (lookup) before it lets go. Two callers
// may race to prepare the same text; the loser's statement is closed.
func (c *stmtCache) prepare(ctx context.Context, q string) *sql.Stmt {
	c.mu.Lock()
	full := c.m == nil || len(c.m) >= maxCachedStmts
	c.mu.Unlock()
	if full {
		return nil
	}
	st, err := c.pool.PrepareContext(context.WithoutCancel(ctx), q)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[q]; ok {
		_ = st.Close()
		return prev
	}
	if c.m == nil { // closed meanwhile
		_ = st.Close()
		return nil
	}
	c.m[q] = st
	return st
}

// lookup returns the cached statement for q without preparing; a miss is
// remembered for prepareMissed.
func (c *stmtCache) lookup(q string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.m[q]
	if !ok && c.m != nil && len(c.m)+len(c.pending) < maxCachedStmts {
		c.pending[q] = struct{}{}
	}
	return st
}

// prepareMissed prepares the queries lookup missed. Call it with no
// connection of the pool held.
func (c *stmtCache) prepareMissed(ctx context.Context) {
	if c == nil {
		return
	}
	for {
		c.mu.Lock()
		var q string
		found := false
		for p := range c.pending {
			q, found = p, true
			delete(c.pending, p)
			break
		}
		_, cached := c.m[q]
		c.mu.Unlock()
		if !found {
			return
		}
		if !cached {
			c.prepare(ctx, q)
		}
	}
}

// close closes the cached statements; later gets run unprepared.
func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		_ = st.Close()
	}
	c.m = nil
}
