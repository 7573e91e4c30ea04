package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// A search page's statement (searchPage) was sent as an unnamed statement
// and planned for its arguments every time: at 1M, 1.0-3.1 ms of
// planning (1.6 ms on average over the bench's mix) for 3-14 ms of
// execution, the most for the probed statements, whose sixteen windows
// are sixteen scans to plan (docs/search.md, "A plan kept per
// statement"). Its text depends on the
// query's shape (how many groups, counted or not) and on the probe's
// windows (which depend on the statistics and the query's density, not on
// its words); its arguments carry the words. So each connection of the
// pool prepares each text once and keeps its generic plan: the sets are
// materialised CTEs read from the text index or by TID ranges whatever
// the arguments, which is what the plans for the arguments chose too
// (TestSearchPagePlanIsGeneric), so the plan, hence the order in which
// the matches are read and the answer, is the same.

// maxPagePlans is how many page statements a connection keeps prepared
// at most; the least recently used is deallocated past it. The bench's
// mix of 25 queries uses 10 texts.
const maxPagePlans = 64

// pagePlans bounds the page statements each connection keeps prepared.
// A connection's own list, least recently used first, is kept in its
// pgconn.CustomData, which only the goroutine holding the connection
// touches: no map of connections to sweep (reading another connection's
// state, as IsClosed does, races with its holder) and nothing left behind
// when the pool closes one.
type pagePlans struct {
	limit atomic.Int32 // maxPagePlans when 0 (tests set less)
}

// pagePlansKey is the key of a connection's list in its CustomData.
const pagePlansKey = "partnergraph.searchPagePlans"

// pagePlanName is the name a page statement is prepared under.
func pagePlanName(sql string) string {
	d := sha256.Sum256([]byte(sql))
	return "search_page_" + hex.EncodeToString(d[:16])
}

// prepare returns the description of sql prepared on conn, preparing it
// (a round trip) when conn has not yet, and deallocating the statement
// conn used least recently when it keeps maxPagePlans.
func (pp *pagePlans) prepare(ctx context.Context, conn *pgx.Conn, sql string) (*pgconn.StatementDescription, error) {
	name := pagePlanName(sql)
	data := conn.PgConn().CustomData()
	names, _ := data[pagePlansKey].([]string)
	known := false
	for i, n := range names {
		if n == name {
			copy(names[i:], names[i+1:])
			names[len(names)-1] = name
			known = true
			break
		}
	}
	var evict string
	if !known {
		limit := maxPagePlans
		if l := int(pp.limit.Load()); l > 0 {
			limit = l
		}
		if len(names) >= limit {
			evict, names = names[0], names[1:]
		}
		names = append(names, name)
	}
	data[pagePlansKey] = names
	if evict != "" {
		if err := conn.Deallocate(ctx, evict); err != nil {
			forgetPagePlans(conn)
			return nil, err
		}
	}
	sd, err := conn.Prepare(ctx, name, sql) // no round trip when prepared
	if err != nil {
		forgetPagePlans(conn)
		return nil, err
	}
	return sd, nil
}

// forgetPagePlans drops what conn's list says of its statements, after an
// error that may have left them otherwise than recorded (pgx keeps its
// own record of them, which Prepare and Deallocate follow).
func forgetPagePlans(conn *pgx.Conn) {
	delete(conn.PgConn().CustomData(), pagePlansKey)
}
