-- Token changes travel to every server instance (issue 14): when a token is
-- revoked, deleted or changes role, PostgreSQL NOTIFYs the tokens channel,
-- whichever server, command or SQL session made the change, and every
-- server closes that token's WebSockets (docs/security.md). A trigger,
-- rather than the store's own code, so that a revocation by hand in psql
-- counts too. NOTIFY is delivered on commit and dropped on rollback.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION notify_token_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('partnergraph_tokens',
            json_build_object('token', OLD.id, 'role', OLD.role, 'revoked', true)::text);
        RETURN OLD;
    END IF;
    PERFORM pg_notify('partnergraph_tokens',
        json_build_object('token', NEW.id, 'role', NEW.role, 'revoked', NEW.revoked_at IS NOT NULL)::text);
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER api_token_notify
    AFTER UPDATE OF role, revoked_at OR DELETE ON api_token
    FOR EACH ROW
    EXECUTE FUNCTION notify_token_change();

-- +goose Down
DROP TRIGGER api_token_notify ON api_token;
DROP FUNCTION notify_token_change();
