#!/bin/sh
# tests/bench/results.sh: time lb-results merging 16 finished worker files
# of 100 routes each (1600 routes).  Prints one markdown table row:
# | lb-results merge ... | median (min-max) ms, instructions | | | |
# Wall times depend on what else the machine runs: the load average goes
# to stderr with them.  The instruction count (valgrind's callgrind, "-"
# without valgrind) does not, so compare runs by it.
set -eu
top=${LB_TOP:-$(cd "${0%/*}/../.." && pwd)}
bin=$top/cmd/lb-results
[ -x "$bin" ] || { echo "results.sh: build cmd/lb-results first" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "results.sh: no hyperfine" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/lb-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
cd "$work"

python3 - <<'PY'
import json, random
random.seed(1)
keys = ["collisions_layout", "collisions_pedestrian", "collisions_vehicle",
        "red_light", "stop_infraction", "outside_route_lanes",
        "min_speed_infractions", "yield_emergency_vehicle_infractions",
        "scenario_timeouts", "route_dev", "vehicle_blocked", "route_timeout"]
for w in range(16):
    recs = []
    for i in range(100):
        rid = w * 100 + i
        inf = {k: [] for k in keys}
        if random.random() < 0.3:
            inf["collisions_vehicle"].append(
                "Agent collided against object with type=vehicle.tesla."
                "model3 and id=%d at (x=%.3f, y=%.3f, z=0.1)"
                % (rid, random.uniform(-500, 500), random.uniform(-500, 500)))
        if random.random() < 0.2:
            inf["outside_route_lanes"].append(
                "Agent went outside its route lanes for about %.3f meters "
                "(%.2f%% of the completed route)"
                % (random.uniform(1, 80), random.uniform(0.1, 5)))
        done = random.random() < 0.8
        sr = 100 if done else round(random.uniform(5, 95), 6)
        pen = round(random.uniform(0.4, 1.0), 6)
        game = round(random.randint(400, 20000) * 0.05, 3)
        recs.append({"index": i, "route_id": "RouteScenario_%d_rep0" % rid,
            "status": "Completed" if done else "Failed - Agent got blocked",
            "num_infractions": sum(len(v) for v in inf.values()),
            "infractions": inf,
            "scores": {"score_route": sr, "score_penalty": pen,
                       "score_composed": round(sr * pen, 6)},
            "meta": {"route_length": round(random.uniform(1200, 9500), 3),
                     "duration_game": game,
                     "duration_system": round(game / random.uniform(0.12, 0.45), 3)}})
    d = {"_checkpoint": {"global_record": {}, "progress": [100, 100],
         "records": recs}, "entry_status": "Finished", "eligible": True,
         "sensors": ["carla_camera", "carla_camera", "carla_lidar",
                     "carla_gnss", "carla_imu", "carla_speedometer"],
         "values": [], "labels": []}
    with open("partial_agent_results%d.json" % (w + 1), "w") as f:
        json.dump(d, f, indent=4)
PY

files=$(i=1; while [ $i -le 16 ]; do printf 'partial_agent_results%d.json ' $i; i=$((i + 1)); done)
mkdir out
# shellcheck disable=SC2086
"$bin" -w 16 -t 1600 -o out $files
# shellcheck disable=SC2086
hyperfine -N -w 3 -m 20 --export-json bench.json \
    "$bin -w 16 -t 1600 -o out $files" >/dev/null 2>&1
ir=-
if command -v valgrind >/dev/null; then
	# shellcheck disable=SC2086
	valgrind --tool=callgrind --callgrind-out-file=cg.out \
	    "$bin" -w 16 -t 1600 -o out $files >/dev/null 2>cg.err &&
	    ir=$(sed -n 's/^summary: *//p' cg.out)
fi
printf '# load average: %s (on %s CPUs)\n' \
    "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)" \
    "$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')" >&2
IR=$ir python3 - <<'PY'
import json, os, sys
r = json.load(open("bench.json"))["results"][0]
ms = [t * 1000 for t in r["times"]]
ir = os.environ["IR"]
if ir.isdigit():
    ir = "{:,}".format(int(ir))
print("# cpu time (user+sys) mean %.1f ms: wall above it is waiting"
      % ((r["user"] + r["system"]) * 1000), file=sys.stderr)
print("| lb-results merge, 16 files x 100 routes | %.1f (%.1f-%.1f), "
      "%s instructions | | | target < 50 ms |"
      % (r["median"] * 1000, min(ms), max(ms), ir))
PY
