#!/bin/sh
# lb-results: every golden case byte for byte, then what goes beyond the
# reference (expected counts, failed merges keep earlier outputs, partial
# files being written) and bad input.
. "${0%/*}/lib.sh"
plan 90

g=$data/golden
outs="merged.json results.json stdout.txt metadata.json"

# names N: the N partial file names the monitor passes
names() {
	i=1
	while [ "$i" -le "$1" ]; do
		printf 'partial_agent_results%d.json ' "$i"
		i=$((i + 1))
	done
}

# pydump FILE: json.dump(json.load(FILE), indent=4), Python's own bytes
pydump() {
	python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
sys.stdout.write(json.dumps(d, indent=4, sort_keys=sys.argv[2]=="1"))' "$@"
}

# golden cases: 7 x (exit status + 4 files) = 35
python3 -c 'import json,sys
for c in sys.argv[1:]:
    d=json.load(open(c+"/case.json"))
    print(c.rstrip("/").rsplit("/",1)[1], d["leaderboard"], d["workers"], d["merge_exit_code"])
' "$g"/*/ >cases
while read -r c lb n want; do
	rm -rf "$c" && mkdir "$c" && cp "$g/$c"/partial_agent_results*.json \
	    "$c/" 2>/dev/null
	# shellcheck disable=SC2046
	(cd "$c" && lb-results --format "$lb" $(names "$n") 2>err)
	got=$?
	[ "$got" -eq "$want" ] || echo "# $c: exit $got, wanted $want"
	ok "$c: exit status" $((got != want))
	for f in $outs; do
		if [ -f "$g/$c/$f" ]; then
			expect_same "$c: $f" "$g/$c/$f" "$c/$f"
		else
			[ ! -e "$c/$f" ]
			ok "$c: no $f" $?
		fi
	done
done <cases
[ "$(wc -l <cases)" -eq 7 ]
ok "all 7 golden cases found" $?

# The merged file is what Python's json writes for the same data.
pydump lb2_four_workers_complete/merged.json 0 >py.json
expect_same "merged.json equals Python's json.dump of it" py.json \
    lb2_four_workers_complete/merged.json
pydump lb1_two_workers_complete/merged.json 1 >py1.json
expect_same "1.0 merged.json equals Python's sorted json.dump" py1.json \
    lb1_two_workers_complete/merged.json

# -o puts the files elsewhere; the inputs are named by path
mkdir o1
lb-results -o o1 lb2_single_worker_complete/partial_agent_results1.json
ok "-o: exit 0" $?
expect_same "-o: merged.json" "$g/lb2_single_worker_complete/merged.json" \
    o1/merged.json

# Expected counts: a missing worker is reported, never Finished.
mkdir last && cp "$g/lb2_four_workers_complete"/partial_agent_results[123].json \
    last/
# shellcheck disable=SC2046
(cd last && lb-results $(names 4) 2>err)
ok "last worker missing, no -w: exit 0 like the reference" $?
expect_grep "last worker missing, no -w: Finished (reference blind spot)" \
    '"entry_status": "Finished"' last/merged.json
# shellcheck disable=SC2046
(cd last && lb-results -w 4 -t 20 $(names 4) 2>err)
ok "last worker missing, -w 4 -t 20: exit 1" $(($? != 1))
expect_grep "-w: names the missing worker" \
    'missing: worker 4: partial_agent_results4.json: no file yet' last/err
expect_grep "-t: names the missing routes" 'missing: routes 15-19: no record' \
    last/err
expect_grep "-w: entry stays Started" '"entry_status": "Started"' \
    last/merged.json
expect_grep "-w: no global record" '"global_record": {}' last/merged.json
expect_grep "-w: stdout shows current results" "submission's current results" \
    last/stdout.txt

# In progress with -w: the unfinished worker is reported too.
mkdir prog && cp "$g/lb2_in_progress"/partial_agent_results*.json prog/
# shellcheck disable=SC2046
(cd prog && lb-results -w 4 $(names 4) 2>err)
ok "in progress, -w 4: exit 1" $(($? != 1))
expect_grep "in progress: worker 2 is 3 of 5" 'worker 2: .*3 of 5 routes' \
    prog/err
expect_same "in progress, -w 4: merged.json as the reference" \
    "$g/lb2_in_progress/merged.json" prog/merged.json

# All expected and present: exit 0, same bytes as without the counts.
mkdir full && cp "$g/lb2_four_workers_complete"/partial_agent_results*.json \
    full/
# shellcheck disable=SC2046
(cd full && lb-results -w 4 -t 20 $(names 4) 2>err)
ok "complete, -w 4 -t 20: exit 0" $?
expect_same "complete, -w 4 -t 20: merged.json" \
    "$g/lb2_four_workers_complete/merged.json" full/merged.json

# A failed merge leaves the outputs of an earlier good merge untouched.
touch -d '2001-01-01 00:00:00' full/*.json full/stdout.txt
touch -d '2002-01-01 00:00:00' stamp
cp "$g/lb2_duplicate_route_ids"/partial_agent_results*.json full/
# shellcheck disable=SC2046
(cd full && lb-results $(names 2) 2>err)
ok "failed merge over a good one: exit 1" $(($? != 1))
expect_grep "failed merge: says why" 'more than one record' full/err
for f in $outs; do
	expect_same "failed merge: $f kept" \
	    "$g/lb2_four_workers_complete/$f" "full/$f"
done
find full -newer stamp \( -name '*.json' -o -name stdout.txt \) \
    ! -name 'partial_*' >new
[ ! -s new ]
ok "failed merge: no output file rewritten" $?
find full -name '*.tmp.*' >tmps
[ ! -s tmps ]
ok "failed merge: no temporary file left" $?

# A partial file being written (truncated) is not there yet, never fatal.
mkdir trunc && cp "$g/lb2_four_workers_complete"/partial_agent_results*.json \
    trunc/
head -c 3000 "$g/lb2_four_workers_complete/partial_agent_results2.json" \
    >trunc/partial_agent_results2.json
# shellcheck disable=SC2046
(cd trunc && lb-results -w 4 $(names 4) 2>err)
ok "truncated worker file, -w 4: exit 1, not fatal" $(($? != 1))
expect_grep "truncated: reported as not complete yet" \
    'worker 2: .*not complete JSON yet' trunc/err
expect_grep "truncated: merged as in progress" '"progress": \[' \
    trunc/merged.json
: >trunc/partial_agent_results4.json
cp "$g/lb2_four_workers_complete/partial_agent_results2.json" trunc/
head -c 100 "$g/lb2_four_workers_complete/partial_agent_results3.json" \
    >trunc/partial_agent_results3.json
# shellcheck disable=SC2046
(cd trunc && lb-results $(names 4) 2>err)
ok "trailing empty and truncated files, no -w: skipped, exit 0" $?

# Bad input.
mkdir bad
printf 'not json at all {' >bad/p1.json
head -c 300000 /dev/urandom >bad/p2.json
(cd bad && lb-results p1.json p2.json 2>err)
ok "not JSON / binary garbage: skipped, exit 0" $?
expect_same "not JSON: same as no files" \
    "$g/lb2_no_worker_files_yet/merged.json" bad/merged.json

printf '{"_checkpoint": {"records": "x", "progress": [0, 1]}, "sensors": []}' \
    >bad/p1.json
rm -f bad/merged.json
(cd bad && lb-results p1.json 2>err)
ok "records not a list: exit 1" $(($? != 1))
expect_grep "records not a list: says so" 'records is not a list' bad/err
[ ! -e bad/merged.json ]
ok "records not a list: no merged.json" $?
printf '{"_checkpoint": {"records": [], "progress": [0, "5"]}, "sensors": []}' \
    >bad/p1.json
(cd bad && lb-results p1.json 2>err)
ok "progress[1] a string: exit 1" $(($? != 1))
printf '[1, 2]' >bad/p1.json
(cd bad && lb-results p1.json 2>err)
ok "a list, not an object: exit 1" $(($? != 1))
printf '{"sensors": []}' >bad/p1.json
(cd bad && lb-results p1.json 2>err)
ok "no _checkpoint: exit 1" $(($? != 1))

# huge: 5000 routes in one file, and 40 MB of junk beside it
python3 - <<'EOF'
import json
recs = [{"index": i, "route_id": "RouteScenario_%d_rep0" % i,
         "status": "Completed", "num_infractions": 1,
         "infractions": {"collisions_layout": [], "collisions_pedestrian": [],
             "collisions_vehicle": [], "red_light": [], "stop_infraction": [],
             "outside_route_lanes": ["Agent went outside its route lanes for "
                 "about 12.5 meters (1.2% of the completed route)"],
             "min_speed_infractions": [],
             "yield_emergency_vehicle_infractions": [],
             "scenario_timeouts": [], "route_dev": [], "vehicle_blocked": [],
             "route_timeout": []},
         "scores": {"score_route": 100, "score_penalty": 0.988,
                    "score_composed": 98.8},
         "meta": {"route_length": 1234.5 + i, "duration_game": 60.05,
                  "duration_system": 200.125}} for i in range(5000)]
d = {"_checkpoint": {"global_record": {}, "progress": [5000, 5000],
     "records": recs}, "entry_status": "Finished", "eligible": True,
     "sensors": ["carla_camera", "carla_lidar"], "values": [], "labels": []}
json.dump(d, open("huge.json", "w"), indent=4)
EOF
head -c 40000000 /dev/zero | tr '\0' x >junk.json
lb-results -o . huge.json junk.json 2>err
ok "huge: 5000 routes and 40 MB of junk: exit 0" $?
expect_grep "huge: all routes merged" 'All 5000 route have been completed' \
    stdout.txt
pydump merged.json 0 >py.json
expect_same "huge: merged.json equals Python's json.dump of it" py.json \
    merged.json

# unicode and hostile strings: in statuses, messages, extra keys, names
mkdir uni
python3 - <<'EOF'
import json
long = "x" * 300
rec = {"index": 0, "route_id": "RouteScenario_0_rep0",
       "status": "Failed - Agent crashed \u00e9\u4e2d\U0001F697 $(rm -rf /) `x` \"q\" \\ \t",
       "infractions": {k: [] for k in ["collisions_layout",
           "collisions_pedestrian", "collisions_vehicle", "red_light",
           "stop_infraction", "outside_route_lanes", "min_speed_infractions",
           "yield_emergency_vehicle_infractions", "scenario_timeouts",
           "route_dev", "vehicle_blocked", "route_timeout"]},
       "scores": {"score_route": 12.5, "score_penalty": 1.0,
                  "score_composed": 12.5},
       "meta": {"route_length": 1000, "duration_game": 1e-05,
                "duration_system": 3},
       "extra \u00fc\u0000 " + long: [1, 1.0, 1e16, -0.0, None, True]}
d = {"_checkpoint": {"global_record": {}, "progress": [1, 1],
     "records": [rec]}, "entry_status": "Finished", "eligible": True,
     "sensors": ["carla_gnss"], "values": [], "labels": []}
json.dump(d, open("uni/p $(x) \u00e9.json", "w"))
EOF
(cd uni && lb-results -w 1 "p \$(x) é.json" 2>err)
ok "unicode and metacharacters: exit 0" $?
pydump uni/merged.json 0 >uni/py.json
expect_same "unicode: merged.json equals Python's json.dump" uni/py.json \
    uni/merged.json
expect_grep "unicode: extra member kept, escaped" '"extra \\u00fc\\u0000 xxx' \
    uni/merged.json
# shellcheck disable=SC2016
expect_grep "unicode: stdout shows the status as UTF-8" \
    'Status: Failed - Agent crashed é中🚗 $(rm -rf /)' uni/stdout.txt
expect_grep "unicode: int 1000 and float 3 sums kept apart" \
    '"total_length": 1000,' uni/merged.json

# numbers: 3000 random doubles and ints kept in an extra member come out
# exactly as Python writes them (repr, exponents, -0.0, big ints)
python3 - <<'EOF'
import json, random, struct
random.seed(7)
v = []
for i in range(3000):
    k = i % 4
    if k == 0:
        x = struct.unpack("d", struct.pack("Q", random.getrandbits(64)))[0]
        if x != x or x in (float("inf"), float("-inf")):
            x = -0.0
    elif k == 1:
        x = random.uniform(-1, 1) * 10 ** random.randint(-25, 25)
    elif k == 2:
        x = round(random.uniform(0, 1e4), random.randint(0, 7))
    else:
        x = random.randint(-10 ** 30, 10 ** 30)
    v.append(x)
rec = {"route_id": "RouteScenario_0_rep0", "numbers": v}
d = {"_checkpoint": {"records": [rec], "progress": [1, 2]},
     "sensors": [], "values": [], "labels": []}
json.dump(d, open("nums.json", "w"))
EOF
mkdir nums
lb-results -o nums nums.json 2>err
ok "numbers: exit 0" $?
pydump nums/merged.json 0 >nums/py.json
expect_same "numbers: every float and int as Python writes it" nums/py.json \
    nums/merged.json

# unknown sensor: generate_stdout raises, the others are written
sed 's/carla_gnss/carla_sonar/' "uni/p \$(x) é.json" >uni/s.json
rm -f uni/stdout.txt uni/merged.json
(cd uni && lb-results s.json 2>err)
ok "unknown sensor: exit 1" $(($? != 1))
expect_grep "unknown sensor: named" "unknown sensor 'carla_sonar'" uni/err
[ -f uni/merged.json ] && [ ! -e uni/stdout.txt ]
ok "unknown sensor: merged.json written, stdout.txt not" $?

# Usage errors exit 2.
lb-results 2>/dev/null
ok "no files: exit 2" $(($? != 2))
lb-results --format 3.0 x.json 2>/dev/null
ok "--format 3.0: exit 2" $(($? != 2))
lb-results -w zero x.json 2>/dev/null
ok "-w zero: exit 2" $(($? != 2))
lb-results -o no/such/dir x.json 2>err
ok "unwritable outdir: exit 1" $(($? != 1))
