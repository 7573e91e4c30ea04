-- Four enum values are renamed to US spelling (CHANGELOG.md): partner kinds
-- REGIONAL_CENTRE and SUPPORT_CENTRE become REGIONAL_CENTER and
-- SUPPORT_CENTER, relation types ORGANISED and RECOGNISED_IN become ORGANIZED
-- and RECOGNIZED_IN. The stored values follow, so that what the API returns,
-- what exports write and what the revision log shows are one spelling.
--
-- Partner rows are updated through their triggers (the entity counters keep
-- themselves). Links are updated through theirs too (the traversal change
-- log records the new type), but the link tallies have no update trigger,
-- since a link's type never changes through the API: they are renamed here
-- directly. Revisions written before the rename are rewritten in place; the
-- store also reads the old spellings (kb.PartnerKind.UnmarshalText), so a
-- revision missed here would still revert.

-- +goose Up
UPDATE partner SET partner_kind = CASE partner_kind
        WHEN 'REGIONAL_CENTRE' THEN 'REGIONAL_CENTER' ELSE 'SUPPORT_CENTER' END
    WHERE partner_kind IN ('REGIONAL_CENTRE', 'SUPPORT_CENTRE');

UPDATE link SET type = CASE type WHEN 'ORGANISED' THEN 'ORGANIZED' ELSE 'RECOGNIZED_IN' END
    WHERE type IN ('ORGANISED', 'RECOGNISED_IN');
UPDATE link_tally SET type = CASE type WHEN 'ORGANISED' THEN 'ORGANIZED' ELSE 'RECOGNIZED_IN' END
    WHERE type IN ('ORGANISED', 'RECOGNISED_IN');

UPDATE revision SET
    before = CASE
        WHEN before->>'type' IN ('ORGANISED', 'RECOGNISED_IN') THEN jsonb_set(before, '{type}',
            to_jsonb(CASE before->>'type' WHEN 'ORGANISED' THEN 'ORGANIZED' ELSE 'RECOGNIZED_IN' END))
        WHEN before#>>'{partner,partnerKind}' IN ('REGIONAL_CENTRE', 'SUPPORT_CENTRE') THEN jsonb_set(before, '{partner,partnerKind}',
            to_jsonb(CASE before#>>'{partner,partnerKind}' WHEN 'REGIONAL_CENTRE' THEN 'REGIONAL_CENTER' ELSE 'SUPPORT_CENTER' END))
        ELSE before END,
    after = CASE
        WHEN after->>'type' IN ('ORGANISED', 'RECOGNISED_IN') THEN jsonb_set(after, '{type}',
            to_jsonb(CASE after->>'type' WHEN 'ORGANISED' THEN 'ORGANIZED' ELSE 'RECOGNIZED_IN' END))
        WHEN after#>>'{partner,partnerKind}' IN ('REGIONAL_CENTRE', 'SUPPORT_CENTRE') THEN jsonb_set(after, '{partner,partnerKind}',
            to_jsonb(CASE after#>>'{partner,partnerKind}' WHEN 'REGIONAL_CENTRE' THEN 'REGIONAL_CENTER' ELSE 'SUPPORT_CENTER' END))
        ELSE after END
    WHERE before->>'type' IN ('ORGANISED', 'RECOGNISED_IN')
       OR after->>'type' IN ('ORGANISED', 'RECOGNISED_IN')
       OR before#>>'{partner,partnerKind}' IN ('REGIONAL_CENTRE', 'SUPPORT_CENTRE')
       OR after#>>'{partner,partnerKind}' IN ('REGIONAL_CENTRE', 'SUPPORT_CENTRE');

-- +goose Down
UPDATE revision SET
    before = CASE
        WHEN before->>'type' IN ('ORGANIZED', 'RECOGNIZED_IN') THEN jsonb_set(before, '{type}',
            to_jsonb(CASE before->>'type' WHEN 'ORGANIZED' THEN 'ORGANISED' ELSE 'RECOGNISED_IN' END))
        WHEN before#>>'{partner,partnerKind}' IN ('REGIONAL_CENTER', 'SUPPORT_CENTER') THEN jsonb_set(before, '{partner,partnerKind}',
            to_jsonb(CASE before#>>'{partner,partnerKind}' WHEN 'REGIONAL_CENTER' THEN 'REGIONAL_CENTRE' ELSE 'SUPPORT_CENTRE' END))
        ELSE before END,
    after = CASE
        WHEN after->>'type' IN ('ORGANIZED', 'RECOGNIZED_IN') THEN jsonb_set(after, '{type}',
            to_jsonb(CASE after->>'type' WHEN 'ORGANIZED' THEN 'ORGANISED' ELSE 'RECOGNISED_IN' END))
        WHEN after#>>'{partner,partnerKind}' IN ('REGIONAL_CENTER', 'SUPPORT_CENTER') THEN jsonb_set(after, '{partner,partnerKind}',
            to_jsonb(CASE after#>>'{partner,partnerKind}' WHEN 'REGIONAL_CENTER' THEN 'REGIONAL_CENTRE' ELSE 'SUPPORT_CENTRE' END))
        ELSE after END
    WHERE before->>'type' IN ('ORGANIZED', 'RECOGNIZED_IN')
       OR after->>'type' IN ('ORGANIZED', 'RECOGNIZED_IN')
       OR before#>>'{partner,partnerKind}' IN ('REGIONAL_CENTER', 'SUPPORT_CENTER')
       OR after#>>'{partner,partnerKind}' IN ('REGIONAL_CENTER', 'SUPPORT_CENTER');
UPDATE link_tally SET type = CASE type WHEN 'ORGANIZED' THEN 'ORGANISED' ELSE 'RECOGNISED_IN' END
    WHERE type IN ('ORGANIZED', 'RECOGNIZED_IN');
UPDATE link SET type = CASE type WHEN 'ORGANIZED' THEN 'ORGANISED' ELSE 'RECOGNISED_IN' END
    WHERE type IN ('ORGANIZED', 'RECOGNIZED_IN');
UPDATE partner SET partner_kind = CASE partner_kind
        WHEN 'REGIONAL_CENTER' THEN 'REGIONAL_CENTRE' ELSE 'SUPPORT_CENTRE' END
    WHERE partner_kind IN ('REGIONAL_CENTER', 'SUPPORT_CENTER');
