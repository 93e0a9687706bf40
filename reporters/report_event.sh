#!/usr/bin/env bash
# Report a delivery event to shipgauge from CI. Needs bash and curl only (no jq).
#
# usage: report_event.sh SERVICE EVENT [--metadata JSON] [--environment ENV] [--commit SHA]...
#                        [--result success|failure] [--event-id ID] [--rollback] [--hotfix]
#                        [--dry-run]
#
# Same command line, variables, event ids, retries and exit codes as report_event.py:
# SHIPGAUGE_URL + SHIPGAUGE_TOKEN (or API_DEVOPS_EVENT_CATCHER + DEVOPS_EVENTS_SECRET_TOKEN),
# retries of 5xx, timeouts and refused connections (SHIPGAUGE_RETRIES, default 3),
# exit 1 with the server's message on failure, 2 on bad usage.
set -euo pipefail

USAGE="usage: report_event SERVICE EVENT [--metadata JSON] [--environment ENV] [--commit SHA]... [--result R] [--event-id ID] [--rollback] [--hotfix] [--dry-run]"
RETRY_BASE_S=1

usage_error() {
  printf 'report_event: %s\n%s\n' "$1" "$USAGE" >&2
  exit 2
}

# A JSON string literal; quotes, backslashes and common control characters escaped.
json_string() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  printf '"%s"' "$s"
}

ci_run_id() {
  local parts=()
  if [[ ${GITHUB_ACTIONS:-} == true ]]; then
    parts=(gha "${GITHUB_REPOSITORY:-}" "${GITHUB_RUN_ID:-}" "${GITHUB_RUN_ATTEMPT:-1}" "${GITHUB_JOB:-}")
  elif [[ ${GITLAB_CI:-} == true ]]; then
    parts=(gitlab "${CI_PROJECT_ID:-}" "${CI_JOB_ID:-}")
  elif [[ -n ${JENKINS_URL:-} && -n ${BUILD_TAG:-} ]]; then
    parts=(jenkins "$BUILD_TAG")
  elif [[ ${CIRCLECI:-} == true ]]; then
    parts=(circleci "${CIRCLE_WORKFLOW_ID:-}" "${CIRCLE_BUILD_NUM:-}")
  elif [[ -n ${TASK_ID:-} ]]; then
    parts=(taskcluster "$TASK_ID" "${RUN_ID:-0}")
  else
    return 0
  fi
  local id="" part
  for part in "${parts[@]}"; do
    [[ -n $part ]] && id+="${id:+-}$part"
  done
  printf '%s' "${id// /-}"
}

service="" event="" metadata="" has_metadata=false environment="" result="" event_id=""
rollback=false hotfix=false dry_run=false
commits=()
positional=()
while (($#)); do
  case $1 in
    --metadata | --environment | --commit | --result | --event-id)
      (($# >= 2)) || usage_error "$1 needs a value"
      case $1 in
        --metadata) metadata=$2 has_metadata=true ;;
        --environment) environment=$2 ;;
        --commit) commits+=("$2") ;;
        --result) result=$2 ;;
        --event-id) event_id=$2 ;;
      esac
      shift 2
      ;;
    --rollback) rollback=true && shift ;;
    --hotfix) hotfix=true && shift ;;
    --dry-run) dry_run=true && shift ;;
    -h | --help) printf '%s\n' "$USAGE" && exit 0 ;;
    -*) usage_error "unknown option $1" ;;
    *) positional+=("$1") && shift ;;
  esac
done
((${#positional[@]} == 2)) || usage_error "give SERVICE and EVENT"
service=${positional[0]}
event=${positional[1]}

if [[ -z $event_id ]]; then
  run=$(ci_run_id)
  if [[ -z $run ]]; then
    run="run-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  fi
  event_id="$run-$event${environment:+-$environment}"
fi

# Fields in sorted order, as the Python and Node reporters print them with --dry-run.
body="{"
if ((${#commits[@]})); then
  list=""
  for sha in "${commits[@]}"; do list+="${list:+,}$(json_string "$sha")"; done
  body+="\"commits\":[$list],"
fi
[[ -n $environment ]] && body+="\"environment\":$(json_string "$environment"),"
body+="\"event_id\":$(json_string "$event_id"),"
[[ $hotfix == true ]] && body+="\"hotfix\":true,"
body+="\"kind\":$(json_string "$event"),"
if [[ $has_metadata == true ]]; then
  trimmed=$(printf '%s' "$metadata" | tr -d '\n')
  [[ $trimmed =~ ^[[:space:]]*\{.*\}[[:space:]]*$ ]] || usage_error "--metadata is not valid JSON"
  body+="\"metadata\":$trimmed,"
fi
[[ -n $result ]] && body+="\"result\":$(json_string "$result"),"
[[ $rollback == true ]] && body+="\"rollback\":true,"
body+="\"service\":$(json_string "$service"),"
body+="\"time\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}"

if [[ $dry_run == true ]]; then
  printf '%s\n' "$body"
  exit 0
fi

base=${SHIPGAUGE_URL:-${API_DEVOPS_EVENT_CATCHER:-}}
token=${SHIPGAUGE_TOKEN:-${DEVOPS_EVENTS_SECRET_TOKEN:-}}
[[ -n $base && -n $token ]] || usage_error "set SHIPGAUGE_URL and SHIPGAUGE_TOKEN"
base=${base%/}
base=${base%/process-event}
[[ $base =~ ^https?:// ]] || usage_error "$base is not an http(s) URL"
url="$base/api/v1/events"
retries=${SHIPGAUGE_RETRIES:-3}
timeout=${SHIPGAUGE_TIMEOUT:-10}

reply=$(mktemp)
trap 'rm -f "$reply"' EXIT
outcome=""
for ((attempt = 0; attempt <= retries; attempt++)); do
  if ((attempt)); then
    sleep $((RETRY_BASE_S * 2 ** (attempt - 1)))
  fi
  status=0
  code=$(curl -sS -o "$reply" -w '%{http_code}' --max-time "$timeout" -X POST \
    -H "Content-Type: application/json" -H "Authorization: Bearer $token" \
    -H "User-Agent: shipgauge-report-event/1 (bash)" --data-binary "$body" "$url" 2>"$reply.err") ||
    status=$?
  if ((status != 0)); then
    outcome="curl exit $status: $(head -c 300 "$reply.err")"
    rm -f "$reply.err"
    continue
  fi
  rm -f "$reply.err"
  if ((code >= 200 && code < 300)); then
    printf 'stored %s event %s for %s\n' "$event" "$event_id" "$service"
    exit 0
  fi
  text=$(head -c 2000 "$reply")
  message=$(printf '%s' "$text" | sed -n 's/.*"message": *"\(\([^"\\]\|\\.\)*\)".*/\1/p')
  field=$(printf '%s' "$text" | sed -n 's/.*"field": *"\([^"]*\)".*/\1/p')
  outcome="HTTP $code: ${message:-${text:0:300}}${field:+ (field $field)}"
  if ((code < 500)); then
    printf 'report_event: %s event for %s failed: %s\n' "$event" "$service" "$outcome" >&2
    exit 1
  fi
done
printf 'report_event: %s event for %s failed: %s (after %d tries)\n' \
  "$event" "$service" "$outcome" "$((retries + 1))" >&2
exit 1
