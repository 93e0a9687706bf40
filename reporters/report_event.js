#!/usr/bin/env node
// Report a delivery event to shipgauge from CI. Node 18+ only, no packages.
//
// usage: report_event.js SERVICE EVENT [--metadata JSON] [--environment ENV] [--commit SHA]...
//                        [--result success|failure] [--event-id ID] [--rollback] [--hotfix]
//                        [--dry-run]
//
// Same command line, variables, event ids, retries and exit codes as report_event.py:
// SHIPGAUGE_URL + SHIPGAUGE_TOKEN (or API_DEVOPS_EVENT_CATCHER + DEVOPS_EVENTS_SECRET_TOKEN),
// retries of 5xx, timeouts and refused connections (SHIPGAUGE_RETRIES, default 3),
// exit 1 with the server's message on failure, 2 on bad usage.
"use strict";

const crypto = require("node:crypto");

const RETRY_BASE_MS = 1000;
const USAGE =
  "usage: report_event SERVICE EVENT [--metadata JSON] [--environment ENV] [--commit SHA]... " +
  "[--result R] [--event-id ID] [--rollback] [--hotfix] [--dry-run]";

class UsageError extends Error {}

function ciRunId(env) {
  let parts;
  if (env.GITHUB_ACTIONS === "true") {
    parts = ["gha", env.GITHUB_REPOSITORY, env.GITHUB_RUN_ID, env.GITHUB_RUN_ATTEMPT || "1",
      env.GITHUB_JOB];
  } else if (env.GITLAB_CI === "true") {
    parts = ["gitlab", env.CI_PROJECT_ID, env.CI_JOB_ID];
  } else if (env.JENKINS_URL && env.BUILD_TAG) {
    parts = ["jenkins", env.BUILD_TAG];
  } else if (env.CIRCLECI === "true") {
    parts = ["circleci", env.CIRCLE_WORKFLOW_ID, env.CIRCLE_BUILD_NUM];
  } else if (env.TASK_ID) {
    parts = ["taskcluster", env.TASK_ID, env.RUN_ID || "0"];
  } else {
    return null;
  }
  return parts.filter(Boolean).join("-").replace(/ /g, "-");
}

function parseArgs(argv) {
  const args = { commit: [], positional: [] };
  const valued = ["--metadata", "--environment", "--commit", "--result", "--event-id"];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (valued.includes(arg)) {
      if (i + 1 >= argv.length) throw new UsageError(`${arg} needs a value`);
      const value = argv[++i];
      if (arg === "--commit") args.commit.push(value);
      else args[arg.slice(2).replace("-", "_")] = value;
    } else if (["--rollback", "--hotfix", "--dry-run"].includes(arg)) {
      args[arg.slice(2).replace("-", "_")] = true;
    } else if (arg === "-h" || arg === "--help") {
      process.stdout.write(USAGE + "\n");
      process.exit(0);
    } else if (arg.startsWith("-")) {
      throw new UsageError(`unknown option ${arg}`);
    } else {
      args.positional.push(arg);
    }
  }
  if (args.positional.length !== 2) throw new UsageError("give SERVICE and EVENT");
  [args.service, args.event] = args.positional;
  return args;
}

function buildEvent(args, env) {
  const run = ciRunId(env) || "run-" + crypto.randomUUID().replace(/-/g, "");
  const suffix = [args.event, args.environment].filter(Boolean).join("-");
  const event = {
    service: args.service,
    kind: args.event,
    time: new Date().toISOString(),
    event_id: args.event_id || `${run}-${suffix}`,
  };
  if (args.metadata !== undefined) {
    try {
      event.metadata = JSON.parse(args.metadata);
    } catch {
      throw new UsageError("--metadata is not valid JSON");
    }
  }
  if (args.environment) event.environment = args.environment;
  if (args.result) event.result = args.result;
  if (args.commit.length) event.commits = args.commit;
  if (args.rollback) event.rollback = true;
  if (args.hotfix) event.hotfix = true;
  return event;
}

function endpoint(env) {
  let base = env.SHIPGAUGE_URL || env.API_DEVOPS_EVENT_CATCHER || "";
  const token = env.SHIPGAUGE_TOKEN || env.DEVOPS_EVENTS_SECRET_TOKEN || "";
  if (!base || !token) throw new UsageError("set SHIPGAUGE_URL and SHIPGAUGE_TOKEN");
  base = base.replace(/\/+$/, "").replace(/\/process-event$/, "");
  if (!/^https?:\/\//.test(base)) throw new UsageError(`${base} is not an http(s) URL`);
  return { url: base + "/api/v1/events", token };
}

function serverMessage(text) {
  try {
    const error = JSON.parse(text).error;
    return error.message + (error.field ? ` (field ${error.field})` : "");
  } catch {
    return text.slice(0, 300);
  }
}

async function send(url, token, event, retries, timeoutMs) {
  let outcome = "";
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt) await new Promise((r) => setTimeout(r, RETRY_BASE_MS * 2 ** (attempt - 1)));
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Authorization: "Bearer " + token,
          "User-Agent": "shipgauge-report-event/1 (node)",
        },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      if (response.ok) return { ok: true, message: `HTTP ${response.status}` };
      outcome = `HTTP ${response.status}: ${serverMessage(text)}`;
      if (response.status < 500) return { ok: false, message: outcome };
    } catch (error) {
      outcome = error.cause ? error.cause.code || error.cause.message : error.message;
    }
  }
  return { ok: false, message: `${outcome} (after ${retries + 1} tries)` };
}

async function main(argv, env) {
  let args, event;
  try {
    args = parseArgs(argv);
    event = buildEvent(args, env);
    if (args.dry_run) {
      const sorted = Object.fromEntries(Object.entries(event).sort());
      process.stdout.write(JSON.stringify(sorted) + "\n");
      return 0;
    }
    var { url, token } = endpoint(env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`report_event: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  const retries = parseInt(env.SHIPGAUGE_RETRIES || "3", 10);
  const timeoutMs = parseFloat(env.SHIPGAUGE_TIMEOUT || "10") * 1000;
  const { ok, message } = await send(url, token, event, retries, timeoutMs);
  if (!ok) {
    process.stderr.write(
      `report_event: ${args.event} event for ${args.service} failed: ${message}\n`,
    );
    return 1;
  }
  process.stdout.write(`stored ${args.event} event ${event.event_id} for ${args.service}\n`);
  return 0;
}

main(process.argv.slice(2), process.env).then((code) => process.exit(code));
