#!/usr/bin/env bash
# The two database roles of the supplier risk register (README, Security model):
#   the owner (MIGRATION_DATABASE_URL): owns the database, runs the migrations, so it owns every table;
#   the API's role (DATABASE_URL): owns nothing; the API grants it what it needs after migrating (src/db/roles.ts).
# docker-compose.yml mounts this into /docker-entrypoint-initdb.d, which the postgres image runs once, on an
# empty volume, as the superuser POSTGRES_USER. For an existing volume, run it once by hand:
#   docker compose exec -e REGISTER_OWNER_PASSWORD=… -e REGISTER_API_PASSWORD=… postgres \
#     bash /docker-entrypoint-initdb.d/10-register-roles.sh
set -eo pipefail
: "${REGISTER_OWNER_PASSWORD:?set REGISTER_OWNER_PASSWORD}" "${REGISTER_API_PASSWORD:?set REGISTER_API_PASSWORD}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
  -v database="${POSTGRES_DB:-postgres}" \
  -v owner_role="${REGISTER_OWNER_ROLE:-register_owner}" -v owner_password="$REGISTER_OWNER_PASSWORD" \
  -v api_role="${REGISTER_API_ROLE:-register_api}" -v api_password="$REGISTER_API_PASSWORD" <<'SQL'
CREATE ROLE :"owner_role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
CREATE ROLE :"api_role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'api_password';
-- PostgreSQL 15+: the public schema belongs to the database's owner, so the owner may create tables there
-- and nobody else may.
ALTER DATABASE :"database" OWNER TO :"owner_role";
SQL
