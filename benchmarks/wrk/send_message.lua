-- wrk script: C2C text messages from one logged-in instance to another user (simtim/1).
--
--   wrk -t1 -c32 -d8s -s benchmarks/wrk/send_message.lua http://127.0.0.1:PORT/v1/sendMessage \
--       -- TOKEN [TO] [check] [SEED]
--
-- TOKEN is the sender instance's Bearer token and TO the receiver's userID (default "bob"); both can
-- also come from the environment (SIMTIM_BENCH_TOKEN, SIMTIM_BENCH_TO, SIMTIM_BENCH_CHECK=1,
-- SIMTIM_BENCH_SEED).  Every request carries a fresh uint32 `random` and the current `clientTime`, so
-- MSG-6 dedup never answers from the stored message.  The URL's path is used as is, so the same script
-- drives any endpoint that takes the same body (benchmarks/echo_app.py).
--
-- "check" defines a response() callback that counts answers that are not HTTP 200 with "code":0.
-- wrk then parses every response's headers and body, which costs it CPU: use it for a short
-- verification run, not for the timed one.
--
-- REST v4 mode (benchmarks/rest_bench.py): when the URL's path is /v4/openim/sendmsg?QUERY (the admin's
-- sdkappid/identifier/usersig in QUERY, one sig for the run as backends do), the arguments are
-- FROM [TO] [check] [SEED], the body is a sendmsg with a fresh MsgRandom (the 120 s dedup never
-- answers), and "check" wants "ErrorCode":0. REST_BENCH_TO=ghost in the environment sends to an
-- unknown account instead (90012: the refusal path, authentication and parsing without the send).
--
-- done() prints one line "SIMTIM_WRK {json}" (latencies in microseconds) for benchmarks/server_bench.py.

local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("index", counter)
   table.insert(threads, thread)
end

-- per-thread globals, read from done() through thread:get()
checked = 0
bad = 0
first_bad = nil

local ok_marker = '"code":0,'

-- global so benchmarks/wrk/get_message_list.lua (which loads this file) can reuse it
function check_response(status, headers, body)
   checked = checked + 1
   if status ~= 200 or body == nil or not string.find(body, ok_marker, 1, true) then
      bad = bad + 1
      if first_bad == nil then
         first_bad = tostring(status) .. " " .. string.sub(tostring(body), 1, 200)
      end
   end
end

local body_format = nil

local function init_rest(args)
   local from = args[1] or "alice"
   local to = os.getenv("REST_BENCH_TO") or args[2] or "bob"
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   ok_marker = '"ErrorCode":0'
   body_format = '{"From_Account":"' .. from .. '","To_Account":"' .. to .. '","SyncOtherMachine":2,'
      .. '"MsgRandom":%d,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"wrk bench message"}}]}'
end

function init(args)
   if string.find(wrk.path, "/v4/", 1, true) then
      init_rest(args)
      math.randomseed((tonumber(args[4] or "") or os.time()) + 7919 * (index or 0))
      if args[3] == "check" then
         response = check_response
      end
      return
   end
   local token = args[1] or os.getenv("SIMTIM_BENCH_TOKEN")
   local to = args[2] or os.getenv("SIMTIM_BENCH_TO") or "bob"
   local check = (args[3] == "check") or (os.getenv("SIMTIM_BENCH_CHECK") == "1")
   local seed = tonumber(args[4] or os.getenv("SIMTIM_BENCH_SEED") or "") or os.time()
   if token == nil or token == "" then
      error("send_message.lua: pass the Bearer token as the first argument after -- or in SIMTIM_BENCH_TOKEN")
   end
   math.randomseed(seed + 7919 * (index or 0))
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["Authorization"] = "Bearer " .. token
   body_format = '{"message":{"to":"' .. to .. '","conversationType":"C2C","type":"TIMTextElem",'
      .. '"payload":{"text":"wrk bench message"},"random":%d,"clientTime":%d}}'
   if check then
      response = check_response  -- wrk looks for a global response() after init
   end
end

function request()
   -- string.format ignores the extra clientTime argument in REST mode's one-%d format
   return wrk.format(nil, nil, nil, string.format(body_format, math.random(0, 4294967295), os.time()))
end

local function json_string(s)
   return '"' .. string.gsub(s, '[%c"\\]', function(c) return string.format("\\u%04x", string.byte(c)) end) .. '"'
end

function done(summary, latency, requests)
   local total_checked, total_bad, sample = 0, 0, nil
   for _, thread in ipairs(threads) do
      total_checked = total_checked + (thread:get("checked") or 0)
      total_bad = total_bad + (thread:get("bad") or 0)
      sample = sample or thread:get("first_bad")
   end
   local e = summary.errors
   io.write(string.format(
      'SIMTIM_WRK {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,'
      .. '"write_errors":%d,"non_2xx":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,'
      .. '"p999_us":%d,"max_us":%d,"mean_us":%.1f,"checked":%d,"bad":%d,"first_bad":%s}\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
      latency.max, latency.mean, total_checked, total_bad, json_string(sample or "")))
end
