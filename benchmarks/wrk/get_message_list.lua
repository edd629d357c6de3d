-- wrk script: getMessageList (the newest page, 15 messages) of a C2C conversation (simtim/1).
--
--   wrk -t1 -c32 -d8s -s benchmarks/wrk/get_message_list.lua http://127.0.0.1:PORT/v1/getMessageList \
--       -- TOKEN [PEER] [check] [SEED]
--
-- TOKEN is the reading instance's Bearer token and PEER the other user of the C2C conversation
-- (default "bob"): every request asks {"conversationID":"C2C<PEER>","count":15}.  The conversation must
-- already hold more than 15 messages (benchmarks/server_bench.py sends them first).  The body is the
-- same for every request (paging is read-only), so it is formatted once.  SEED is accepted for the
-- same argument list as send_message.lua and not used.  The URL's path is used as is, so the same
-- script drives benchmarks/echo_app.py.
--
-- "check" defines a response() callback that counts answers that are not HTTP 200 with "code":0 and
-- exactly 15 messages (15 "ID" keys); "check-envelope" only wants HTTP 200 with "code":0 (the echo
-- app, which answers no messages).  Run them short, as they make wrk parse every body.
--
-- done() (from send_message.lua, loaded below) prints one line "SIMTIM_WRK {json}".

local here = string.match(debug.getinfo(1, "S").source, "^@(.*[/\\])") or "./"
dofile(here .. "send_message.lua")  -- setup(), done(), check_response() and their counters

local PAGE = 15
local request_bytes = nil

local function check_page(status, headers, body)
   check_response(status, headers, body)
   if status == 200 and body ~= nil and string.find(body, '"code":0,', 1, true) then
      local _, ids = string.gsub(body, '"ID":', "")
      if ids ~= PAGE then
         bad = bad + 1
         if first_bad == nil then
            first_bad = "page of " .. ids .. " messages, not " .. PAGE .. ": " .. string.sub(body, 1, 160)
         end
      end
   end
end

function init(args)
   local token = args[1] or os.getenv("SIMTIM_BENCH_TOKEN")
   local peer = args[2] or os.getenv("SIMTIM_BENCH_TO") or "bob"
   if token == nil or token == "" then
      error("get_message_list.lua: pass the Bearer token as the first argument after --")
   end
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["Authorization"] = "Bearer " .. token
   local body = '{"conversationID":"C2C' .. peer .. '","count":' .. PAGE .. '}'
   request_bytes = wrk.format(nil, nil, nil, body)
   if args[3] == "check" then
      response = check_page
   elseif args[3] == "check-envelope" then
      response = check_response
   end
end

function request()
   return request_bytes
end
