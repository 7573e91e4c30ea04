-- Issue 17, filters at a million entities: the region, the city and a
-- cooperative's activities indexed on the kinds' tables.
--
-- A filter on a region or a city compares lower(unaccent()) of entity_full's
-- place, and one on activities overlaps entity_full's array: nothing
-- indexes them, so a list walked the kind in its order, joining each
-- entity to its kind's row, until a page matched, and a count until its
-- bound (50 ms-1.4 s at 1M for the partners of one region or city, a
-- region none has read all 360,000; 140-190 ms for the cooperatives of one
-- activity, whose GIN index of 00001 no plan used). Indexed on the kind's
-- own table, the matches are read first (store.Store.attrPlan): a few are
-- listed by their ids, many are counted from the index up to the bound.
--
-- place_fold is the fold of the filters (lower(unaccent(...)), unaccent's
-- default dictionary), spelt with the dictionary so that it is immutable
-- and may be indexed.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION place_fold(s text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT lower(public.unaccent('public.unaccent'::regdictionary, s))
$$;
-- +goose StatementEnd
CREATE INDEX partner_region_fold_idx ON partner (place_fold(region), id) INCLUDE (region);
CREATE INDEX partner_city_fold_idx ON partner (place_fold(city), id) INCLUDE (city);
CREATE INDEX cooperative_region_fold_idx ON cooperative (place_fold(region), id) INCLUDE (region);
CREATE INDEX cooperative_city_fold_idx ON cooperative (place_fold(city), id) INCLUDE (city);
CREATE INDEX foreign_example_region_fold_idx ON foreign_example (place_fold(region), id) INCLUDE (region);
CREATE INDEX foreign_example_city_fold_idx ON foreign_example (place_fold(city), id) INCLUDE (city);
CREATE INDEX event_region_fold_idx ON event (place_fold(region), id) INCLUDE (region);
CREATE INDEX event_city_fold_idx ON event (place_fold(city), id) INCLUDE (city);

-- +goose Down
DROP INDEX partner_region_fold_idx, partner_city_fold_idx, cooperative_region_fold_idx, cooperative_city_fold_idx,
    foreign_example_region_fold_idx, foreign_example_city_fold_idx,
    event_region_fold_idx, event_city_fold_idx;
DROP FUNCTION place_fold(text);
