#!/bin/sh
# Runs once, as POSTGRES_USER (a superuser no app uses), when the postgres volume is first initialised.
# keys_owner owns the database and its schema and runs the migrations (DATABASE_OWNER_URL of the command
# and keysctl); keys_app is what every app connects as (DATABASE_URL): it owns nothing, and the command
# grants it, after each migration, only what the code needs (libs/event-store/src/database-roles.ts).
# No `set -u`: the image sources a script that is not executable, and that would leak into its shell.
: "${KEYS_OWNER_PASSWORD:?KEYS_OWNER_PASSWORD must be set}"
: "${KEYS_APP_PASSWORD:?KEYS_APP_PASSWORD must be set}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v db="$POSTGRES_DB" -v owner_password="$KEYS_OWNER_PASSWORD" -v app_password="$KEYS_APP_PASSWORD" <<'SQL'
create role keys_owner login nosuperuser nocreatedb nocreaterole noreplication nobypassrls password :'owner_password';
create role keys_app login nosuperuser nocreatedb nocreaterole noreplication nobypassrls password :'app_password';
-- The database owner is also the owner of its public schema (pg_database_owner, Postgres 15).
alter database :"db" owner to keys_owner;
revoke all on database :"db" from public;
grant connect on database :"db" to keys_app;
SQL
