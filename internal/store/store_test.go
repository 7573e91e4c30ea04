package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/seed"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/partnergraph/partnergraph/internal/store/storetest"
)

func TestMain(m *testing.M) {
	pgtest.Main(m, storetest.Migrated, pgtest.Template{Name: "empty"})
}

// open returns a store on a fresh migrated database, and its pool.
func open(t *testing.T, configure ...func(*pgxpool.Config)) (*store.Store, *pgxpool.Pool) {
	t.Helper()
	pc, err := pgxpool.ParseConfig(pgtest.NewDB(t, "migrated"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range configure {
		f(pc)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return store.New(pool), pool
}

func cite(src string) []kb.Citation { return []kb.Citation{{SourceKey: src, Locator: "akapit 1"}} }

// small is a data set shaped like the reference data: a project with a
// three-sector partnership, a cooperative beside a workshop, a practice.
func small() kb.Dataset {
	pub := kb.StatusPublished
	return kb.Dataset{
		Entities: []kb.Entity{
			{Key: "art", Kind: kb.KindSource, Name: "Artykuł", Status: pub, Source: &kb.Source{SourceKind: kb.SourceArticle, Language: "pl"}},
			{Key: "assoc", Kind: kb.KindPartner, Name: "Stowarzyszenie Na Rzecz Spółdzielni Socjalnych", Status: pub, Citations: cite("art"),
				Partner: &kb.Partner{Sector: kb.SectorSocial, PartnerKind: kb.PartnerAssociation}},
			{Key: "rops", Kind: kb.KindPartner, Name: "Regionalny Ośrodek Polityki Społecznej w Poznaniu", Status: pub, Citations: cite("art"),
				Partner: &kb.Partner{Sector: kb.SectorPublic, PartnerKind: kb.PartnerRegionalCenter, Place: kb.Place{Country: "PL", City: "Poznań"}}},
			{Key: "konimpex", Kind: kb.KindPartner, Name: "Konimpex Sp. z o.o.", Status: pub, Citations: cite("art"),
				Partner: &kb.Partner{Sector: kb.SectorPrivate, PartnerKind: kb.PartnerCompany}},
			{Key: "wtz", Kind: kb.KindPartner, Name: "Warsztat Terapii Zajęciowej w Gębicach", Status: pub, Citations: cite("art"),
				Partner: &kb.Partner{Sector: kb.SectorSocial, PartnerKind: kb.PartnerWorkshop}},
			{Key: "secret", Kind: kb.KindPartner, Name: "Łódzka Firma (draft)", Status: kb.StatusDraft,
				Partner: &kb.Partner{Sector: kb.SectorPrivate, PartnerKind: kb.PartnerCompany}},
			{Key: "coop", Kind: kb.KindCooperative, Name: "Spółdzielnia Socjalna „Równe Szanse”", Status: pub, Citations: cite("art"),
				Cooperative: &kb.Cooperative{CoopStatus: kb.CoopInitiativeGroup, Activities: []kb.Activity{kb.ActivityCeramics}}},
			{Key: "project", Kind: kb.KindProject, Name: "Innowacyjny model aktywizacji zawodowej uczestników WTZ", Status: pub, Project: &kb.Project{}},
			{Key: "ps", Kind: kb.KindPartnership, Name: "Partnerstwo projektu", Status: pub, Partnership: &kb.Partnership{}},
			{Key: "practice", Kind: kb.KindGoodPractice, Name: "Jak pozyskać partnera biznesowego", Status: pub,
				GoodPractice: &kb.GoodPractice{Topics: []string{"Współpraca z biznesem"}}},
		},
		Links: []kb.Link{
			{FromKey: "assoc", ToKey: "ps", Type: kb.RelMemberOf, Role: "LEADER", Citations: cite("art")},
			{FromKey: "rops", ToKey: "ps", Type: kb.RelMemberOf, Role: "PUBLIC_PARTNER"},
			{FromKey: "konimpex", ToKey: "ps", Type: kb.RelMemberOf, Role: "BUSINESS_PARTNER"},
			{FromKey: "secret", ToKey: "ps", Type: kb.RelMemberOf, Role: "SUPPORTER"},
			{FromKey: "ps", ToKey: "project", Type: kb.RelFormedAround},
			{FromKey: "wtz", ToKey: "coop", Type: kb.RelFounded},
			{FromKey: "coop", ToKey: "wtz", Type: kb.RelEmploysParticipantsOf},
			{FromKey: "ps", ToKey: "practice", Type: kb.RelDemonstrates},
			{FromKey: "coop", ToKey: "practice", Type: kb.RelDemonstrates},
		},
		Indicators: []kb.Indicator{
			{CooperativeKey: "coop", Name: kb.IndicatorJobsPlanned, Value: 8, Unit: "jobs", Citation: &kb.Citation{SourceKey: "art", Locator: "akapit 1"}},
			{CooperativeKey: "coop", Name: kb.IndicatorWTZJobsPlanned, Value: 5, Unit: "jobs", Citation: &kb.Citation{SourceKey: "art", Locator: "akapit 1"}},
		},
	}
}

func load(t *testing.T, st *store.Store, d kb.Dataset) store.ApplyReport {
	t.Helper()
	rep, err := st.ApplyDataset(context.Background(), "test", d)
	if err != nil {
		t.Fatalf("ApplyDataset: %v", err)
	}
	return rep
}

// loadReference applies the reference data to st, as partnergraph seed does.
func loadReference(t *testing.T, st *store.Store) {
	t.Helper()
	ds, err := seed.Reference()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApplyDataset(context.Background(), "seed", *ds); err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, pool *pgxpool.Pool, table string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestApplyDatasetTwiceChangesNothingTheSecondTime(t *testing.T) {
	st, pool := open(t)
	first := load(t, st, small())
	if first.EntitiesCreated != 10 || first.LinksCreated != 9 || first.IndicatorsCreated != 2 {
		t.Fatalf("first apply: %+v, want 10 entities, 9 links, 2 indicators created", first)
	}
	revisions := count(t, pool, "revision")
	if revisions != 21 {
		t.Errorf("revisions after first apply: got %d, want 21 (one per entity, link and indicator)", revisions)
	}
	second := load(t, st, small())
	if second.Changed() || second.EntitiesUnchanged != 10 || second.LinksUnchanged != 9 || second.IndicatorsUnchanged != 2 {
		t.Fatalf("second apply: %+v, want everything unchanged", second)
	}
	if got := count(t, pool, "revision"); got != revisions {
		t.Errorf("revisions after second apply: got %d, want %d", got, revisions)
	}

	// A changed value is an update with a revision holding before and after.
	d := small()
	d.Entities[2].Summary = "Partner publiczny projektu."
	d.Indicators[0].Value = 9
	third := load(t, st, d)
	if third.EntitiesUpdated != 1 || third.IndicatorsUpdated != 1 || third.EntitiesCreated != 0 {
		t.Fatalf("third apply: %+v, want 1 entity and 1 indicator updated", third)
	}
	var before, after string
	err := pool.QueryRow(context.Background(), `SELECT coalesce(before->>'summary', ''), after->>'summary' FROM revision
		WHERE operation = 'update' AND entity_id IS NOT NULL ORDER BY id DESC LIMIT 1`).Scan(&before, &after)
	if err != nil || before != "" || after != "Partner publiczny projektu." {
		t.Errorf("update revision: before %q after %q err %v", before, after, err)
	}
	e, err := st.EntityByKey(context.Background(), store.Public, "rops")
	if err != nil || e.Version != 2 {
		t.Errorf("rops after update: version %v, err %v; want version 2", e, err)
	}
}

func TestApplyDatasetWritesAllOrNothing(t *testing.T) {
	st, pool := open(t)
	for _, tc := range []struct {
		name   string
		break_ func(*kb.Dataset)
		field  string
	}{
		{"dangling link", func(d *kb.Dataset) { d.Links[8].ToKey = "nowhere" }, "links[8] (coop -DEMONSTRATES-> nowhere).to"},
		{"link against the vocabulary", func(d *kb.Dataset) { d.Links[6].Type = kb.RelLeads }, "links[6] (coop -LEADS-> wtz).type"},
		{"citation of an unknown source", func(d *kb.Dataset) { d.Entities[4].Citations = cite("nope") }, "entities[4] (wtz).sources[0]"},
		{"invalid entity", func(d *kb.Dataset) { d.Entities[3].Partner.Sector = "BUSINESS" }, "entities[3] (konimpex).partner.sector"},
		{"self link", func(d *kb.Dataset) { d.Links[5].ToKey = "wtz" }, "links[5] (wtz -FOUNDED-> wtz).to"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := small()
			tc.break_(&d)
			_, err := st.ApplyDataset(context.Background(), "test", d)
			var v *kb.ValidationError
			if !errors.As(err, &v) || v.Field != tc.field {
				t.Fatalf("ApplyDataset error = %v, want a validation error on %s", err, tc.field)
			}
			for _, table := range []string{"entity", "link", "citation", "indicator", "revision"} {
				if n := count(t, pool, table); n != 0 {
					t.Errorf("%s has %d rows after a failed apply, want 0", table, n)
				}
			}
		})
	}
}

func keys(es []*kb.Entity) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Key
	}
	return out
}

func TestListEntitiesPagesBothWaysInNameOrderIgnoringDiacritics(t *testing.T) {
	st, _ := open(t)
	load(t, st, small())
	ctx := context.Background()
	f := store.Filter{Kind: kb.KindPartner}
	o := store.Order{Field: store.OrderName}
	// Folded names: konimpex, regionalny, stowarzyszenie, warsztat; the
	// draft "Łódzka" (lodzka) is hidden from the public.
	want := []string{"konimpex", "rops", "assoc", "wtz"}
	var got []string
	p := store.Page{First: 3}
	for {
		page, err := st.ListEntities(ctx, store.Public, f, o, p)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, keys(page.Entities)...)
		if !page.HasNext {
			break
		}
		last := page.Positions[len(page.Positions)-1]
		p = store.Page{First: 3, After: &last}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("forward pages: got %v, want %v", got, want)
	}
	staff, err := st.ListEntities(ctx, store.Visibility{Drafts: true}, f, o, store.Page{First: 10})
	if err != nil || !slices.Equal(keys(staff.Entities), []string{"konimpex", "secret", "rops", "assoc", "wtz"}) {
		t.Fatalf("staff list: got %v, %v; want the draft Łódzka sorted as lodzka", keys(staff.Entities), err)
	}

	before := store.Position{Value: kb.Fold("Warsztat Terapii Zajęciowej w Gębicach"), ID: 0}
	// Backwards: the last two before "warsztat...".
	page, err := st.ListEntities(ctx, store.Public, f, o, store.Page{Last: 2, Before: &before})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys(page.Entities), []string{"rops", "assoc"}) || !page.HasPrev || !page.HasNext {
		t.Fatalf("backward page: got %v prev=%v next=%v, want [rops assoc] with pages both sides", keys(page.Entities), page.HasPrev, page.HasNext)
	}

	desc, err := st.ListEntities(ctx, store.Public, f, store.Order{Field: store.OrderName, Desc: true}, store.Page{First: 2})
	if err != nil || !slices.Equal(keys(desc.Entities), []string{"wtz", "assoc"}) {
		t.Fatalf("descending: got %v, %v", keys(desc.Entities), err)
	}
}

func TestFiltersAndCounts(t *testing.T) {
	st, _ := open(t)
	load(t, st, small())
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		f    store.Filter
		want []string
	}{
		{"sector", store.Filter{Kind: kb.KindPartner, Sectors: []kb.Sector{kb.SectorPublic, kb.SectorPrivate}}, []string{"konimpex", "rops"}},
		{"name without diacritics", store.Filter{Kind: kb.KindPartner, Name: "osrodek polityki"}, []string{"rops"}},
		{"name with a LIKE wildcard is literal", store.Filter{Kind: kb.KindPartner, Name: "%"}, nil},
		{"city without diacritics", store.Filter{Kind: kb.KindPartner, City: "poznan"}, []string{"rops"}},
		{"country in lower case", store.Filter{Kind: kb.KindPartner, Country: "pl"}, []string{"rops"}},
		{"partner kind", store.Filter{Kind: kb.KindPartner, PartnerKinds: []kb.PartnerKind{kb.PartnerWorkshop}}, []string{"wtz"}},
		{"activity", store.Filter{Kind: kb.KindCooperative, Activities: []kb.Activity{kb.ActivityCeramics, kb.ActivityLaundry}}, []string{"coop"}},
		{"other activity", store.Filter{Kind: kb.KindCooperative, Activities: []kb.Activity{kb.ActivityLaundry}}, nil},
		{"status", store.Filter{Kind: kb.KindCooperative, CoopStatuses: []kb.CooperativeStatus{kb.CoopOperating}}, nil},
		{"topic ignoring case and diacritics", store.Filter{Kind: kb.KindGoodPractice, Topics: []string{"wspolpraca z BIZNESEM"}}, []string{"practice"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, err := st.ListEntities(ctx, store.Public, tc.f, store.Order{}, store.Page{First: 20})
			if err != nil {
				t.Fatal(err)
			}
			if got := keys(page.Entities); !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			n, err := st.CountEntities(ctx, store.Public, tc.f)
			if err != nil || n != len(tc.want) {
				t.Errorf("count: got %d, %v; want %d", n, err, len(tc.want))
			}
		})
	}
}

func ids(t *testing.T, st *store.Store, ks ...string) []int64 {
	t.Helper()
	out := make([]int64, len(ks))
	for i, k := range ks {
		e, err := st.EntityByKey(context.Background(), store.Visibility{Drafts: true}, k)
		if err != nil {
			t.Fatalf("entity %s: %v", k, err)
		}
		out[i] = e.ID
	}
	return out
}

func TestLinksOfReadsBothWaysPerNodeAndHidesDrafts(t *testing.T) {
	st, _ := open(t)
	load(t, st, small())
	ctx := context.Background()
	n := ids(t, st, "ps", "coop", "wtz")
	ps, coop, wtz := n[0], n[1], n[2]

	got, err := st.LinksOf(ctx, store.Public, []int64{ps, coop, wtz}, store.LinkSpec{Direction: store.Both})
	if err != nil {
		t.Fatal(err)
	}
	// ps: 3 visible members (the draft one hidden), formed around, demonstrates.
	if len(got[ps]) != 5 || len(got[coop]) != 3 || len(got[wtz]) != 2 {
		t.Fatalf("links per node: ps %d coop %d wtz %d, want 5 3 2", len(got[ps]), len(got[coop]), len(got[wtz]))
	}
	staff, err := st.LinksOf(ctx, store.Visibility{Drafts: true}, []int64{ps}, store.LinkSpec{Types: []kb.RelationType{kb.RelMemberOf}})
	if err != nil || len(staff[ps]) != 4 {
		t.Fatalf("staff members: %d, %v; want 4", len(staff[ps]), err)
	}
	in, err := st.LinksOf(ctx, store.Public, []int64{wtz}, store.LinkSpec{Direction: store.Incoming})
	if err != nil || len(in[wtz]) != 1 || in[wtz][0].Type != kb.RelEmploysParticipantsOf {
		t.Fatalf("incoming of wtz: %+v, %v; want the EMPLOYS_PARTICIPANTS_OF link", in[wtz], err)
	}
	limited, err := st.LinksOf(ctx, store.Public, []int64{ps, coop}, store.LinkSpec{Limit: 2})
	if err != nil || len(limited[ps]) != 2 || len(limited[coop]) != 2 {
		t.Fatalf("limit 2 per node: ps %d coop %d, %v", len(limited[ps]), len(limited[coop]), err)
	}
	after, err := st.LinksOf(ctx, store.Public, []int64{ps}, store.LinkSpec{AfterID: limited[ps][1].ID})
	if err != nil || len(after[ps]) != 3 {
		t.Fatalf("after the first two: %d, %v; want 3", len(after[ps]), err)
	}
	counts, err := st.CountLinksOf(ctx, store.Public, []int64{ps, coop}, store.LinkSpec{Limit: 1})
	if err != nil || counts[ps] != 5 || counts[coop] != 3 {
		t.Fatalf("counts: %v, %v; want ps 5 coop 3", counts, err)
	}
}

func TestPracticePartnersAndSectorCounts(t *testing.T) {
	st, _ := open(t)
	load(t, st, small())
	ctx := context.Background()
	n := ids(t, st, "practice", "ps", "assoc", "rops", "konimpex", "wtz")
	partners, err := st.PracticePartners(ctx, store.Public, []int64{n[0]})
	if err != nil {
		t.Fatal(err)
	}
	// Behind the practice: the partnership's three visible members and the
	// workshop that founded the cooperative (and whose participants it employs).
	want := []int64{n[4], n[3], n[2], n[5]} // by folded name: konimpex, regionalny, stowarzyszenie, warsztat
	if !slices.Equal(partners[n[0]], want) {
		t.Errorf("partners behind the practice: got %v, want %v", partners[n[0]], want)
	}
	counts, err := st.SectorCounts(ctx, store.Public, []int64{n[1]})
	if err != nil {
		t.Fatal(err)
	}
	if got := counts[n[1]]; got[kb.SectorPublic] != 1 || got[kb.SectorSocial] != 1 || got[kb.SectorPrivate] != 1 || !kb.MixOf(got).Full() {
		t.Errorf("sector counts: %v, want one of each (the draft private member hidden)", got)
	}
}

func TestCitationsAndIndicators(t *testing.T) {
	st, _ := open(t)
	load(t, st, small())
	ctx := context.Background()
	n := ids(t, st, "coop", "art")
	cs, err := st.EntityCitations(ctx, store.Public, []int64{n[0]})
	if err != nil || len(cs[n[0]]) != 1 || cs[n[0]][0].SourceID != n[1] || cs[n[0]][0].Locator != "akapit 1" {
		t.Fatalf("citations of coop: %+v, %v", cs[n[0]], err)
	}
	ins, err := st.Indicators(ctx, store.Public, []int64{n[0]})
	if err != nil {
		t.Fatal(err)
	}
	got := map[kb.IndicatorName]float64{}
	for _, in := range ins[n[0]] {
		got[in.Name] = in.Value
		if in.Citation == nil || in.Citation.SourceID != n[1] {
			t.Errorf("indicator %s: citation %+v, want the article", in.Name, in.Citation)
		}
	}
	if got[kb.IndicatorJobsPlanned] != 8 || got[kb.IndicatorWTZJobsPlanned] != 5 {
		t.Errorf("indicators: %v, want 8 jobs planned, 5 for WTZ participants", got)
	}
}

// TestIndicatorsOfProjectsAndEvents: a project's and an event's figures
// are stored and read as a cooperative's are, and a figure of another kind
// is refused with nothing written.
func TestIndicatorsOfProjectsAndEvents(t *testing.T) {
	st, _ := open(t)
	load(t, st, small())
	ctx := context.Background()
	cite := &kb.Citation{SourceKey: "art", Locator: "akapit 2"}
	d := kb.Dataset{
		Entities: []kb.Entity{{Key: "training", Kind: kb.KindEvent, Name: "Szkolenia", Status: kb.StatusPublished,
			Event: &kb.Event{EventKind: kb.EventTraining, EventStatus: kb.EventHeld}}},
		Indicators: []kb.Indicator{
			{EntityKey: "project", Name: kb.IndicatorCooperativesPlanned, Value: 8, Unit: "cooperatives", Citation: cite},
			{EntityKey: "training", Name: kb.IndicatorWorkshopsRepresented, Value: 10, Unit: "workshops", Citation: cite},
		},
	}
	rep, err := st.ApplyDataset(ctx, "test", d)
	if err != nil || rep.IndicatorsCreated != 2 {
		t.Fatalf("apply: %+v, %v; want 2 indicators created", rep, err)
	}
	n := ids(t, st, "project", "training")
	ins, err := st.Indicators(ctx, store.Public, n)
	if err != nil {
		t.Fatal(err)
	}
	if p, e := ins[n[0]], ins[n[1]]; len(p) != 1 || p[0].Name != kb.IndicatorCooperativesPlanned || p[0].Value != 8 || p[0].Citation == nil ||
		len(e) != 1 || e[0].Name != kb.IndicatorWorkshopsRepresented || e[0].Value != 10 {
		t.Errorf("the project's indicators %+v, the event's %+v", p, e)
	}
	bad := kb.Dataset{Indicators: []kb.Indicator{
		{EntityKey: "training", Name: kb.IndicatorParticipants, Value: 30},
		{EntityKey: "project", Name: kb.IndicatorJobsPlanned, Value: 3},
	}}
	if _, err := st.ApplyDataset(ctx, "test", bad); !kb.IsValidation(err) || !strings.Contains(err.Error(), "JOBS_PLANNED measures a Cooperative, not a Project") {
		t.Errorf("a cooperative's figure on a project: %v, want a validation error", err)
	}
	if ins, _ := st.Indicators(ctx, store.Public, n); len(ins[n[1]]) != 1 {
		t.Errorf("the refused data set wrote the event's participants: %+v", ins[n[1]])
	}
}

func TestEntitiesByIDKeepsOrderAndHidesDrafts(t *testing.T) {
	st, _ := open(t)
	load(t, st, small())
	n := ids(t, st, "wtz", "secret", "rops")
	es, err := st.EntitiesByID(context.Background(), store.Public, []int64{n[0], n[1], 999999, n[2]})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 4 || es[0].Key != "wtz" || es[1] != nil || es[2] != nil || es[3].Key != "rops" {
		t.Fatalf("EntitiesByID: %v, want [wtz nil nil rops]", es)
	}
	if _, err := st.EntityByKey(context.Background(), store.Public, "secret"); !errors.Is(err, kb.ErrNotFound) {
		t.Errorf("draft by key for the public: err %v, want ErrNotFound", err)
	}
}

func TestDuplicateKeyIsAConflict(t *testing.T) {
	st, pool := open(t)
	load(t, st, small())
	_, err := pool.Exec(context.Background(), `INSERT INTO entity (kind, key, name, sort_name, created_by, updated_by)
		VALUES ('PERSON', 'wtz', 'X', 'x', 't', 't')`)
	if err == nil {
		t.Fatal("inserting a duplicate key succeeded")
	}
	if got := store.Translate(err); !errors.Is(got, kb.ErrConflict) {
		t.Errorf("translate(duplicate key) = %v, want ErrConflict", got)
	}
	if got := fmt.Sprint(store.Translate(err)); got != "conflict: an entry with this key already exists" {
		t.Errorf("message: %q", got)
	}
}

// TestPracticePartnersAreCapped: a practice demonstrated by 150 partners
// has PracticeCap partners behind it, the first by name, and only those
// behind its first PracticeCap cases count.
func TestPracticePartnersAreCapped(t *testing.T) {
	st, _ := open(t)
	pub := kb.StatusPublished
	d := kb.Dataset{Entities: []kb.Entity{{Key: "gp", Kind: kb.KindGoodPractice, Name: "Praktyka", Status: pub, GoodPractice: &kb.GoodPractice{}}}}
	const n = store.PracticeCap + 50
	for i := range n {
		// Names run backwards, so that the first cases (in link order) are
		// not the first partners by name.
		key := fmt.Sprintf("p%03d", i)
		d.Entities = append(d.Entities, kb.Entity{Key: key, Kind: kb.KindPartner, Name: fmt.Sprintf("Partner %03d", n-i), Status: pub,
			Partner: &kb.Partner{Sector: kb.SectorSocial, PartnerKind: kb.PartnerOther}})
		d.Links = append(d.Links, kb.Link{FromKey: key, ToKey: "gp", Type: kb.RelDemonstrates})
	}
	load(t, st, d)
	gp := ids(t, st, "gp")[0]
	got, err := st.PracticePartners(context.Background(), store.Public, []int64{gp})
	if err != nil {
		t.Fatal(err)
	}
	ps := got[gp]
	if len(ps) != store.PracticeCap {
		t.Fatalf("%d partners behind the practice, want %d", len(ps), store.PracticeCap)
	}
	es, err := st.EntitiesByID(context.Background(), store.Public, ps)
	if err != nil {
		t.Fatal(err)
	}
	// The first 100 cases are p000..p099, named "Partner 150".."Partner 051".
	if es[0].Name != "Partner 051" || es[len(es)-1].Name != "Partner 150" {
		t.Errorf("partners from %q to %q, want Partner 051 to Partner 150 (the first 100 cases, by name)", es[0].Name, es[len(es)-1].Name)
	}
}

// TestPartnerSectorFollowsToTheEntity: the sector kept on a partner's
// entity row for the partner list's index follows every write.
func TestPartnerSectorFollowsToTheEntity(t *testing.T) {
	st, pool := open(t)
	ctx := context.Background()
	load(t, st, small())
	id := ids(t, st, "konimpex")[0]
	sector := func() string {
		var s string
		if err := pool.QueryRow(ctx, `SELECT coalesce(sector, '') FROM entity WHERE id = $1`, id).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := sector(); got != "PRIVATE" {
		t.Fatalf("after the load the entity's sector is %q, want PRIVATE", got)
	}
	if _, err := st.UpdateEntity(ctx, "test", "update", id, nil, func(cur *kb.Entity) (*kb.Entity, error) {
		e, p := *cur, *cur.Partner
		p.Sector = kb.SectorSocial
		e.Partner = &p
		return &e, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := sector(); got != "SOCIAL" {
		t.Errorf("after the update the entity's sector is %q, want SOCIAL", got)
	}
	page, err := st.ListEntities(ctx, store.Public, store.Filter{Kind: kb.KindPartner, Sectors: []kb.Sector{kb.SectorSocial}},
		store.Order{Field: store.OrderName}, store.Page{First: 10})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range page.Entities {
		found = found || e.ID == id
		if e.Partner.Sector != kb.SectorSocial {
			t.Errorf("%s (%s) listed among SOCIAL partners", e.Name, e.Partner.Sector)
		}
	}
	if !found {
		t.Error("the partner moved to SOCIAL is not listed among SOCIAL partners")
	}
}
