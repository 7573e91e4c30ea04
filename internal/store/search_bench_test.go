package store_test

import (
	"context"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/store"
)

// The synthetic graph of the search benchmark: Polish cooperatives,
// workshops, associations, municipalities and companies, Swedish
// cooperatives and associations, people, practices, events and sources,
// named and described the way the reference data is.
var (
	cities = [][2]string{ // nominative, locative
		{"Poznań", "Poznaniu"}, {"Gębice", "Gębicach"}, {"Łódź", "Łodzi"}, {"Kraków", "Krakowie"},
		{"Gdańsk", "Gdańsku"}, {"Wrocław", "Wrocławiu"}, {"Lublin", "Lublinie"}, {"Kalisz", "Kaliszu"},
		{"Konin", "Koninie"}, {"Leszno", "Lesznie"}, {"Piła", "Pile"}, {"Gniezno", "Gnieźnie"},
		{"Szczecin", "Szczecinie"}, {"Toruń", "Toruniu"}, {"Olsztyn", "Olsztynie"}, {"Rzeszów", "Rzeszowie"},
		{"Białystok", "Białymstoku"}, {"Opole", "Opolu"}, {"Zielona Góra", "Zielonej Górze"}, {"Września", "Wrześni"},
		{"Śrem", "Śremie"}, {"Kościan", "Kościanie"}, {"Oborniki", "Obornikach"}, {"Czarnków", "Czarnkowie"},
		{"Łężeczki", "Łężeczkach"}, {"Chodzież", "Chodzieży"}, {"Jarocin", "Jarocinie"}, {"Turek", "Turku"},
	}
	swedishPlaces = []string{"Roslagen", "Uppsala", "Malmö", "Göteborg", "Västerås", "Örebro", "Linköping",
		"Norrköping", "Jönköping", "Umeå", "Gävle", "Sundsvall", "Rimbo", "Sundbyberg", "Solna", "Täby", "Stockholm"}
	swedishWords = []string{"Glöden", "Ljuset", "Bryggan", "Verkstan", "Hantverket", "Trädgården", "Bageriet",
		"Kaféet", "Skogen", "Ängen", "Källan", "Bron", "Navet", "Fyren", "Industrihuset", "Inuti", "Gnistan", "Vävstugan"}
	coopNames = []string{"Równe Szanse", "Nowy Start", "Razem", "Pod Dębem", "Zielony Ogród", "Gliniane Ptaki",
		"Dobre Ręce", "Słoneczna", "Przystań", "Kuźnia Smaku", "Czysty Dom", "Wspólna Sprawa", "Mydlarnia Pod Lipą",
		"Ceramiczna Pracownia", "Pralnia Bąbelek", "Kawiarenka Promyk", "Ogrody Marzeń", "Złota Rączka"}
	surnames = []string{"Nowak", "Kowalsk", "Wiśniewsk", "Wójcik", "Kamińsk", "Lewandowsk", "Zielińsk", "Szymańsk",
		"Woźniak", "Dąbrowsk", "Kozłowsk", "Jankowsk", "Mazur", "Kwiatkowsk", "Krawczyk", "Piotrowsk", "Grabowsk",
		"Pawłowsk", "Michalsk", "Wasielewsk", "Pokrywk", "Grzech", "Szczepańsk", "Forslund", "Andersson", "Lindqvist"}
	firstNames = []string{"Anna", "Maria", "Katarzyna", "Małgorzata", "Agnieszka", "Jolanta", "Natalia", "Malwina",
		"Magda", "Piotr", "Krzysztof", "Tomasz", "Paweł", "Jan", "Marek", "Erik", "Karin", "Sven", "Ingrid"}
	activitiesPL = []string{"ceramikę", "mydło", "usługi gastronomiczne", "kawiarnię", "ogrodnictwo", "pakowanie",
		"co-packing", "pralnię", "catering", "sprzątanie", "rękodzieło"}
	topicsPL = []string{"partnerstwo publiczno-społeczno-prywatne", "aktywizacja zawodowa", "praca chroniona",
		"zdrowie psychiczne", "ekonomia społeczna", "współpraca z biznesem", "samorząd", "doświadczenia zagraniczne",
		"szkolenia integracyjne", "spółdzielnie socjalne", "warsztaty terapii zajęciowej"}
	kindMix = []kb.Kind{ // the share of each kind, in twentieths
		kb.KindPartner, kb.KindPartner, kb.KindPartner, kb.KindPartner, kb.KindPartner, kb.KindPartner,
		kb.KindCooperative, kb.KindCooperative, kb.KindCooperative, kb.KindCooperative, kb.KindCooperative,
		kb.KindGoodPractice, kb.KindGoodPractice, kb.KindForeignExample, kb.KindForeignExample,
		kb.KindPerson, kb.KindPerson, kb.KindEvent, kb.KindProject, kb.KindSource,
	}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func surname(r *rand.Rand, female bool) string {
	s := pick(r, surnames)
	if strings.HasSuffix(s, "sk") {
		if female {
			return s + "a"
		}
		return s + "i"
	}
	return s
}

// synthetic returns entity i of the benchmark graph; the same i always
// gives the same entity.
func synthetic(i int) kb.Entity {
	r := rand.New(rand.NewPCG(uint64(i), 42))
	city := pick(r, cities)
	act := pick(r, activitiesPL)
	n := strconv.Itoa(i)
	e := kb.Entity{Key: "e" + n, Kind: pick(r, kindMix), Status: kb.StatusPublished}
	if r.IntN(20) == 0 {
		e.Status = kb.StatusDraft
	}
	pl := kb.Place{Country: "PL", Region: "wielkopolskie", City: city[0]}
	switch e.Kind {
	case kb.KindPartner:
		p := &kb.Partner{Sector: kb.SectorSocial, PartnerKind: kb.PartnerWorkshop, Place: pl}
		switch r.IntN(5) {
		case 0:
			e.Name = "Warsztat Terapii Zajęciowej w " + city[1]
			e.Summary = "Warsztat terapii zajęciowej w " + city[1] + ", którego uczestnicy przygotowują się do pracy w spółdzielni socjalnej prowadzącej " + act + "."
		case 1:
			e.Name = "Stowarzyszenie " + pick(r, coopNames) + " w " + city[1]
			e.Summary = "Stowarzyszenie wspierające spółdzielnie socjalne i osoby niepełnosprawne w " + city[1] + "."
			p.PartnerKind = kb.PartnerAssociation
		case 2:
			e.Name = "Gmina " + city[0]
			e.Summary = "Samorząd gminy, partner publiczny partnerstw publiczno-społeczno-prywatnych wokół spółdzielni socjalnych."
			p.Sector, p.PartnerKind = kb.SectorPublic, kb.PartnerMunicipality
		case 3:
			e.Name = surname(r, false) + " i Wspólnicy Sp. z o.o."
			e.Summary = "Firma z " + city[1] + ", partner biznesowy spółdzielni socjalnej, zamawia " + act + "."
			p.Sector, p.PartnerKind = kb.SectorPrivate, kb.PartnerCompany
		default:
			e.Name = "Fundacja " + pick(r, coopNames)
			e.Summary = "Fundacja prowadząca ośrodek wsparcia ekonomii społecznej w " + city[1] + "."
			p.PartnerKind = kb.PartnerFoundation
		}
		e.Partner = p
	case kb.KindCooperative:
		e.Name = "Spółdzielnia Socjalna „" + pick(r, coopNames) + "” w " + city[1]
		e.Summary = "Spółdzielnia socjalna przy warsztacie terapii zajęciowej w " + city[1] + ", prowadząca " + act +
			"; zatrudnia " + strconv.Itoa(2+r.IntN(10)) + " osób, w tym uczestników WTZ."
		e.Cooperative = &kb.Cooperative{CoopStatus: kb.CoopOperating, Activities: []kb.Activity{pick(r, kb.Activities[:11])}, Place: pl}
	case kb.KindGoodPractice:
		topic := pick(r, topicsPL)
		e.Name = "Dobra praktyka: " + topic + " w " + city[1]
		e.Summary = "Praktyka wypracowana przez spółdzielnię socjalną w " + city[1] + ": " + topic + "."
		e.GoodPractice = &kb.GoodPractice{Topics: []string{topic, pick(r, topicsPL)},
			Description: "Uczestnicy warsztatów terapii zajęciowej zdobywają doświadczenie zawodowe poprzez praktyki, staże i pracę w spółdzielniach socjalnych, które prowadzą " + act +
				". Partnerstwo z samorządem i biznesem zapewnia zamówienia, a szkolenia integracyjne budują zespół, który potrafi się komunikować i rozwiązywać konflikty."}
	case kb.KindForeignExample:
		place := pick(r, swedishPlaces)
		switch r.IntN(3) {
		case 0:
			e.Name = "Kooperativet " + pick(r, swedishWords)
		case 1:
			e.Name = place + "s Ekonomiska Förening"
		default:
			e.Name = pick(r, swedishWords) + " Verkstäder"
		}
		e.Summary = "Szwedzka spółdzielnia socjalna w " + place + ", przykład pracy chronionej dla osób z chorobami psychicznymi."
		e.ForeignExample = &kb.ForeignExample{Place: kb.Place{Country: "SE", City: place},
			Model: "Arbetskooperativ: socialt arbetskooperativ som erbjuder arbete och gemenskap.", LessonsForPoland: "Łączenie działalności społecznej z gospodarczą."}
	case kb.KindPerson:
		female := r.IntN(2) == 0
		e.Name = pick(r, firstNames) + " " + surname(r, female)
		e.Summary = "Kierownik warsztatu terapii zajęciowej w " + city[1] + "."
		e.Person = &kb.Person{PublicRole: "kierownik WTZ w " + city[1]}
	case kb.KindEvent:
		e.Name = "Forum Spółdzielni Socjalnych w " + city[1] + " " + strconv.Itoa(2000+r.IntN(26))
		e.Summary = "Forum warsztatów terapii zajęciowej i spółdzielni socjalnych regionu."
		e.Event = &kb.Event{EventKind: kb.EventForum, EventStatus: kb.EventHeld, Place: pl}
	case kb.KindProject:
		e.Name = "Projekt „Aktywizacja zawodowa uczestników WTZ w " + city[1] + "”"
		e.Summary = "Projekt partnerski stowarzyszenia, samorządu i firmy, w którym powstają spółdzielnie socjalne przy warsztatach."
		e.Project = &kb.Project{Funding: "Europejski Fundusz Społeczny"}
	default:
		e.Name = "Artykuł o spółdzielni socjalnej w " + city[1]
		e.Summary = "Artykuł stowarzyszenia o " + act + " i partnerstwie w " + city[1] + "."
		e.Source = &kb.Source{SourceKind: kb.SourceArticle, Publisher: "Stowarzyszenie Na Rzecz Spółdzielni Socjalnych", Language: "pl"}
	}
	return e
}

// loadSynthetic writes n synthetic entities with COPY, without search
// documents: the index is built afterwards by Reindex, which is what the
// benchmark times.
func loadSynthetic(ctx context.Context, pool *pgxpool.Pool, n int) error {
	es := make([]kb.Entity, n)
	for i := range es {
		es[i] = synthetic(i)
	}
	_, err := pool.CopyFrom(ctx, pgx.Identifier{"entity"},
		[]string{"kind", "key", "name", "sort_name", "summary", "status", "created_by", "updated_by"},
		pgx.CopyFromSlice(n, func(i int) ([]any, error) {
			e := &es[i]
			return []any{string(e.Kind), e.Key, e.Name, kb.Fold(e.Name), e.Summary, string(e.Status), "bench", "bench"}, nil
		}))
	if err != nil {
		return err
	}
	ids := map[string]int64{}
	rows, _ := pool.Query(ctx, `SELECT key, id FROM entity WHERE key LIKE 'e%'`)
	var key string
	var id int64
	if _, err := pgx.ForEachRow(rows, []any{&key, &id}, func() error { ids[key] = id; return nil }); err != nil {
		return err
	}
	by := func(k kb.Kind) []*kb.Entity {
		var out []*kb.Entity
		for i := range es {
			if es[i].Kind == k {
				out = append(out, &es[i])
			}
		}
		return out
	}
	copyKind := func(table string, cols []string, k kb.Kind, row func(e *kb.Entity) []any) error {
		list := by(k)
		_, err := pool.CopyFrom(ctx, pgx.Identifier{table}, append([]string{"id"}, cols...),
			pgx.CopyFromSlice(len(list), func(i int) ([]any, error) {
				return append([]any{ids[list[i].Key]}, row(list[i])...), nil
			}))
		return err
	}
	steps := []error{
		copyKind("partner", []string{"sector", "partner_kind", "country", "region", "city"}, kb.KindPartner, func(e *kb.Entity) []any {
			p := e.Partner
			return []any{string(p.Sector), string(p.PartnerKind), p.Country, p.Region, p.City}
		}),
		copyKind("cooperative", []string{"coop_status", "activities", "country", "region", "city"}, kb.KindCooperative, func(e *kb.Entity) []any {
			c := e.Cooperative
			acts := make([]string, len(c.Activities))
			for i, a := range c.Activities {
				acts[i] = string(a)
			}
			return []any{string(c.CoopStatus), acts, c.Country, c.Region, c.City}
		}),
		copyKind("good_practice", []string{"description", "topics"}, kb.KindGoodPractice, func(e *kb.Entity) []any {
			return []any{e.GoodPractice.Description, e.GoodPractice.Topics}
		}),
		copyKind("foreign_example", []string{"country", "city", "model", "lessons_for_poland"}, kb.KindForeignExample, func(e *kb.Entity) []any {
			f := e.ForeignExample
			return []any{f.Country, f.City, f.Model, f.LessonsForPoland}
		}),
		copyKind("person", []string{"public_role"}, kb.KindPerson, func(e *kb.Entity) []any { return []any{e.Person.PublicRole} }),
		copyKind("event", []string{"event_kind", "event_status", "country", "region", "city"}, kb.KindEvent, func(e *kb.Entity) []any {
			v := e.Event
			return []any{string(v.EventKind), string(v.EventStatus), v.Country, v.Region, v.City}
		}),
		copyKind("project", []string{"funding"}, kb.KindProject, func(e *kb.Entity) []any { return []any{e.Project.Funding} }),
		copyKind("source", []string{"source_kind", "publisher", "language"}, kb.KindSource, func(e *kb.Entity) []any {
			s := e.Source
			return []any{string(s.SourceKind), s.Publisher, s.Language}
		}),
	}
	for _, err := range steps {
		if err != nil {
			return err
		}
	}
	_, err = pool.Exec(ctx, `ANALYZE`)
	return err
}

// benchEntities is the size of the benchmark graph:
// PARTNERGRAPH_BENCH_ENTITIES, else 100,000 (10,000 with -short).
func benchEntities() int {
	if s := os.Getenv("PARTNERGRAPH_BENCH_ENTITIES"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	if testing.Short() {
		return 10_000
	}
	return 100_000
}

// latencies collects durations and reports their p50 and p99.
type latencies struct {
	mu sync.Mutex
	ds []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.ds = append(l.ds, d); l.mu.Unlock() }

func (l *latencies) report(b *testing.B) {
	slices.Sort(l.ds)
	if len(l.ds) == 0 {
		return
	}
	q := func(p float64) float64 {
		return float64(l.ds[min(len(l.ds)-1, int(p*float64(len(l.ds))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// BenchmarkSearch builds the index of a synthetic graph (benchEntities
// entities) and times search and suggest on it, one query at a time and
// from 16 concurrent clients. It reports ns/op and p50/p99 in ms.
func BenchmarkSearch(b *testing.B) {
	ctx := context.Background()
	n := benchEntities()
	// PARTNERGRAPH_BENCH_DATABASE_URL keeps the graph between runs: a
	// database that already holds entities is searched as it is (its index
	// rebuilt and timed first with PARTNERGRAPH_BENCH_REINDEX=1).
	url := os.Getenv("PARTNERGRAPH_BENCH_DATABASE_URL")
	if url == "" {
		url = pgtest.NewDB(b, "migrated")
	}
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		b.Fatal(err)
	}
	pc.MaxConns = 16
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	if _, err := store.Migrate(ctx, pool); err != nil {
		b.Fatal(err)
	}
	st := store.New(pool)
	if empty, err := st.Empty(ctx); err != nil {
		b.Fatal(err)
	} else if empty {
		start := time.Now()
		if err := loadSynthetic(ctx, pool, n); err != nil {
			b.Fatal(err)
		}
		loaded := time.Since(start)
		indexed, took, err := st.Reindex(ctx, true)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("%d entities loaded by COPY in %v; index built in %v (%.0f entities/s)",
			n, loaded.Round(time.Millisecond), took.Round(time.Millisecond), float64(indexed)/took.Seconds())
	} else if os.Getenv("PARTNERGRAPH_BENCH_REINDEX") != "" {
		// Time the index build again on the kept graph.
		if _, err := pool.Exec(ctx, `TRUNCATE search_doc, search_term`); err != nil {
			b.Fatal(err)
		}
		indexed, took, err := st.Reindex(ctx, true)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("index of %d entities rebuilt in %v (%.0f entities/s)",
			indexed, took.Round(time.Millisecond), float64(indexed)/took.Seconds())
	}
	var entities, terms, size int64
	_ = pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM entity), (SELECT count(*) FROM search_term),
		pg_total_relation_size('search_doc') + pg_total_relation_size('search_term')`).Scan(&entities, &terms, &size)
	b.Logf("searching %d entities: %d terms, index tables %d MiB", entities, terms, size>>20)

	queries := []struct{ name, q string }{
		{"one-word", "ceramika"},
		{"one-word-common", "spoldzielnia"},
		{"one-word-rare", "wasielewska"},
		{"two-words", "spoldzielnie gniezno"},
		{"three-words", "warsztat terapii wrzesni"},
		{"typo", "koperativet glodn"},
		{"swedish", "ekonomiska forening roslagen"},
		{"phrase", `"zielony ogrod"`},
	}
	for _, tq := range queries {
		b.Run("search/"+tq.name, func(b *testing.B) {
			var l latencies
			for b.Loop() {
				t0 := time.Now()
				if _, err := st.Search(ctx, store.Public, store.SearchRequest{Query: tq.q, Limit: 20}); err != nil {
					b.Fatal(err)
				}
				l.add(time.Since(t0))
			}
			l.report(b)
		})
	}
	mixed := func(i int) string { return queries[i%len(queries)].q }
	b.Run("search/mixed-16-clients", func(b *testing.B) {
		var l latencies
		var i atomicCounter
		b.SetParallelism(max(1, 16/runtimeProcs()))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				t0 := time.Now()
				if _, err := st.Search(ctx, store.Public, store.SearchRequest{Query: mixed(i.next()), Limit: 20}); err != nil {
					b.Error(err)
					return
				}
				l.add(time.Since(t0))
			}
		})
		l.report(b)
	})
	prefixes := []string{"s", "spo", "koop", "warsztat g", "gmina p", "fundacja", "kooperativet gl", "nowak"}
	for _, p := range prefixes {
		b.Run("suggest/"+strings.ReplaceAll(p, " ", "_"), func(b *testing.B) {
			var l latencies
			for b.Loop() {
				t0 := time.Now()
				if _, err := st.Suggest(ctx, store.Public, p, nil, 10); err != nil {
					b.Fatal(err)
				}
				l.add(time.Since(t0))
			}
			l.report(b)
		})
	}
	b.Run("suggest/mixed-16-clients", func(b *testing.B) {
		var l latencies
		var i atomicCounter
		b.SetParallelism(max(1, 16/runtimeProcs()))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				t0 := time.Now()
				if _, err := st.Suggest(ctx, store.Public, prefixes[i.next()%len(prefixes)], nil, 10); err != nil {
					b.Error(err)
					return
				}
				l.add(time.Since(t0))
			}
		})
		l.report(b)
	})
}

type atomicCounter struct{ n atomic.Int64 }

func (c *atomicCounter) next() int { return int(c.n.Add(1)) }

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
