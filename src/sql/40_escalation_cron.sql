
-- aftersales install script, part 40: scheduling the sweeps with pg_cron.
--
-- pg_cron is optional: aftersales installs without it, and these functions
-- reach it only through dynamic SQL.  pg_cron keeps its jobs in one
-- database of the server (the setting cron.database_name) and runs each
-- job in the database the job names.  So:
--   * pg_cron installed here, and this is its database: the job
--     aftersales-sweep is scheduled (or updated: named jobs upsert);
--   * pg_cron's database is another one: a NOTICE gives the exact command
--     to run there (cron.schedule_in_database, which pg_cron has since 1.4;
--     before 1.4, cron.schedule and an UPDATE of cron.job.database);
--   * pg_cron not installed here, or not loaded at all: a NOTICE says what
--     to do.
-- The job runs CALL aftersales.sweep_until_done(...).  pg_cron 1.4 runs at
-- most one instance of a job at a time; concurrent sweeps are safe anyway.

CREATE FUNCTION aftersales_internal.sweep_command(batch integer, max_batches integer) RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF batch IS NULL OR batch < 1 OR batch > 100000 THEN
        RAISE EXCEPTION 'invalid sweep batch: %', COALESCE(batch::text, 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'The batch is how many watches one sweep claims, 1 to 100000, for example: SELECT aftersales.schedule_sweeps(batch => 500);';
    END IF;
    IF max_batches IS NULL OR max_batches < 1 OR max_batches > 100000 THEN
        RAISE EXCEPTION 'invalid max_batches: %', COALESCE(max_batches::text, 'NULL')
            USING ERRCODE = '22023',
                  HINT = 'It bounds the batches of one run, 1 to 100000, for example: SELECT aftersales.schedule_sweeps(max_batches => 100);';
    END IF;
    RETURN pg_catalog.format('CALL aftersales.sweep_until_done(batch => %s, max_batches => %s)', batch, max_batches);
END
$$;
COMMENT ON FUNCTION aftersales_internal.sweep_command(integer, integer) IS 'Internal: the command of the aftersales-sweep job';

-- Where pg_cron stands for this database: 'here' (installed in this
-- database, which is its database), 'elsewhere' (loaded, its database is
-- another one), 'not_installed' (loaded for this database, extension not
-- created), 'absent' (not loaded).
CREATE FUNCTION aftersales_internal.pg_cron_status(OUT status text, OUT cron_database text, OUT new_api boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v text;
BEGIN
    cron_database := NULLIF(pg_catalog.current_setting('cron.database_name', true), '');
    -- cron.schedule_in_database() came with pg_cron 1.4
    SELECT COALESCE(e.extversion, a.default_version) INTO v
      FROM pg_catalog.pg_available_extensions a
      LEFT JOIN pg_catalog.pg_extension e ON e.extname = a.name
     WHERE a.name = 'pg_cron';
    new_api := v IS NULL
               OR pg_catalog.string_to_array(pg_catalog.regexp_replace(v, '[^0-9.]+', '.', 'g'), '.')::int[] >= '{1,4}';
    IF cron_database IS NULL THEN
        status := 'absent';
    ELSIF cron_database <> pg_catalog.current_database() THEN
        status := 'elsewhere';
    ELSIF EXISTS (SELECT FROM pg_catalog.pg_extension e WHERE e.extname = 'pg_cron') THEN
        status := 'here';
    ELSE
        status := 'not_installed';
    END IF;
END
$$;
COMMENT ON FUNCTION aftersales_internal.pg_cron_status() IS
  'Internal: whether pg_cron can run jobs for this database (here, elsewhere, not_installed, absent), its database, and whether it has schedule_in_database';

CREATE FUNCTION aftersales.schedule_sweeps(schedule text DEFAULT '* * * * *', batch integer DEFAULT 500,
                                           max_batches integer DEFAULT 100)
    RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    job constant text := 'aftersales-sweep';
    command text := aftersales_internal.sweep_command(batch, max_batches);
    cron record;
    jobid bigint;
BEGIN
    IF schedule IS NULL OR schedule !~ '^\s*([0-9A-Za-z*/,-]+\s+){4}[0-9A-Za-z*/,-]+\s*$' THEN
        RAISE EXCEPTION 'invalid schedule: "%"', schedule
            USING ERRCODE = '22023',
                  DETAIL = 'pg_cron 1.4 takes the five fields of cron: minute, hour, day of month, month, day of week.',
                  HINT = 'Every minute: SELECT aftersales.schedule_sweeps(''* * * * *'');';
    END IF;
    cron := aftersales_internal.pg_cron_status();
    IF cron.status = 'here' THEN
        EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO jobid USING job, schedule, command;
        RETURN jobid;
    ELSIF cron.status = 'elsewhere' THEN
        RAISE NOTICE 'pg_cron runs in database "%": schedule the sweeps from there', cron.cron_database
            USING DETAIL = pg_catalog.format('Connect to database %I as a superuser and run: %s', cron.cron_database,
                    CASE WHEN cron.new_api
                         THEN pg_catalog.format('SELECT cron.schedule_in_database(%L, %L, %L, %L);',
                                                job, schedule, command, pg_catalog.current_database())
                         ELSE pg_catalog.format('SELECT cron.schedule(%L, %L, %L); UPDATE cron.job SET database = %L WHERE jobname = %L;',
                                                job, schedule, command, pg_catalog.current_database(), job) END),
                  HINT = 'Or make this database pg_cron''s: cron.database_name = ''' || pg_catalog.current_database()
                         || ''' in postgresql.conf, restart, CREATE EXTENSION pg_cron; then SELECT aftersales.schedule_sweeps();';
    ELSIF cron.status = 'not_installed' THEN
        RAISE NOTICE 'pg_cron is not installed in this database: the sweeps are not scheduled'
            USING HINT = pg_catalog.format('Run CREATE EXTENSION pg_cron; then SELECT aftersales.schedule_sweeps(%L);', schedule);
    ELSE
        RAISE NOTICE 'pg_cron is not loaded: the sweeps are not scheduled'
            USING DETAIL = pg_catalog.format('Without pg_cron, run %s; every minute from another scheduler.', command),
                  HINT = pg_catalog.format('To use pg_cron: shared_preload_libraries = ''pg_cron'' and cron.database_name = %L in postgresql.conf, restart, CREATE EXTENSION pg_cron; then SELECT aftersales.schedule_sweeps();',
                                           pg_catalog.current_database());
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION aftersales.schedule_sweeps(text, integer, integer) IS
  'Schedule the escalation sweeps as the pg_cron job aftersales-sweep (calling it again updates the job, never duplicates it); returns the job id, or NULL with a NOTICE saying what to run when pg_cron is absent or lives in another database';

CREATE FUNCTION aftersales.unschedule_sweeps() RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    job constant text := 'aftersales-sweep';
    cron record;
    found_job boolean;
BEGIN
    cron := aftersales_internal.pg_cron_status();
    IF cron.status = 'here' THEN
        EXECUTE 'SELECT EXISTS (SELECT FROM cron.job j WHERE j.jobname = $1 AND j.username = CURRENT_USER)'
           INTO found_job USING job;
        IF found_job THEN
            EXECUTE 'SELECT cron.unschedule($1)' USING job;
        END IF;
        RETURN found_job;
    ELSIF cron.status = 'elsewhere' THEN
        RAISE NOTICE 'pg_cron runs in database "%": unschedule the sweeps from there', cron.cron_database
            USING DETAIL = pg_catalog.format('Connect to database %I as the job''s owner and run: SELECT cron.unschedule(%L);',
                                             cron.cron_database, job);
    ELSE
        RAISE NOTICE 'pg_cron is not installed in this database: no sweeps are scheduled by it';
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION aftersales.unschedule_sweeps() IS
  'Remove the pg_cron job aftersales-sweep: true when removed, false when there was none, NULL with a NOTICE when pg_cron lives in another database or is absent';

REVOKE ALL ON FUNCTION aftersales.schedule_sweeps(text, integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION aftersales.unschedule_sweeps() FROM PUBLIC;
