-- One wrk script for every workload (wrk 4.x, LuaJIT). Invoked by bench/bench.mjs as
--   wrk -t2 -c16 -d15s --latency -s bench/wrk.lua URL -- MODE ORIGIN [DATA_FILE [CODES_FILE]]
--
-- MODE
--   plain     GET the URL as is (GET /api/auth/ok)
--   cookie    GET with `Cookie: <line>`, cycling over DATA_FILE (get-session: signed session cookies)
--   body      POST a JSON body `<line>`, cycling over DATA_FILE (sign-in/email: {"email","password"})
--   totp      POST {"code":…} with `Cookie: <line>` where every line of DATA_FILE is used at most
--             once (pending two-factor challenges are single-use); the code is looked up per
--             request in CODES_FILE (lines "<30 s step> <code>") for the current step, so runs
--             longer than a TOTP window keep sending a valid code.
-- Every request carries `Origin: ORIGIN` (Better Auth's origin check wants it on cookie-bearing
-- POSTs). Lines are split between threads (line i goes to thread i mod nthreads), so in `totp`
-- mode no two connections ever send the same challenge.
--
-- done() prints one line `BENCH_JSON {…}` (requests, duration, p50/p99 in µs, error counts and,
-- for `totp`, how many challenges were sent and whether the pool ran out) for bench.mjs to parse.

local threads = {}
local counter = 1

function setup(thread)
   thread:set("id", counter)
   table.insert(threads, thread)
   counter = counter + 1
end

local mode, origin
local lines = {}
local i = 0
local codes = {}
local headers
-- globals, so done() can read them through thread:get()
n, used, wrapped = 0, 0, 0

local function read_lines(path, id, nthreads)
   local f = assert(io.open(path, "r"))
   local k = 0
   for line in f:lines() do
      if line ~= "" then
         if k % nthreads == id - 1 then
            n = n + 1
            lines[n] = line
         end
         k = k + 1
      end
   end
   f:close()
end

function init(args)
   mode = args[1] or "plain"
   origin = args[2]
   local nthreads = tonumber(os.getenv("BENCH_WRK_THREADS") or "2")
   if args[3] then read_lines(args[3], id, nthreads) end
   if args[4] then
      local f = assert(io.open(args[4], "r"))
      for line in f:lines() do
         local step, code = line:match("^(%d+) (%d+)$")
         if step then codes[tonumber(step)] = code end
      end
      f:close()
   end
   headers = { ["Origin"] = origin }
   if mode == "body" or mode == "totp" then
      headers["Content-Type"] = "application/json"
      wrk.method = "POST"
   end
   if mode ~= "plain" and n == 0 then
      error("wrk.lua: no data lines for thread " .. tostring(id))
   end
end

local function next_line()
   i = i + 1
   if i > n then
      i = 1
      -- only a problem for single-use lines (totp); cookie/body lines are meant to cycle
      if mode == "totp" then wrapped = wrapped + 1 end
   end
   return lines[i]
end

function request()
   if mode == "plain" then
      return wrk.format(nil, nil, headers)
   elseif mode == "cookie" then
      headers["Cookie"] = next_line()
      return wrk.format("GET", nil, headers)
   elseif mode == "body" then
      return wrk.format("POST", nil, headers, next_line())
   else -- totp
      used = used + 1
      headers["Cookie"] = next_line()
      local code = codes[math.floor(os.time() / 30)] or "000000"
      return wrk.format("POST", nil, headers, '{"code":"' .. code .. '"}')
   end
end

function done(summary, latency, requests)
   local sent, pool, ran_out = 0, 0, 0
   for _, t in ipairs(threads) do
      sent = sent + (t:get("used") or 0)
      pool = pool + (t:get("n") or 0)
      if (t:get("wrapped") or 0) > 0 then ran_out = 1 end
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"non2xx":%d,' ..
      '"connect":%d,"read":%d,"write":%d,"timeout":%d,"sent":%d,"pool":%d,"ran_out":%d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
      e.status, e.connect, e.read, e.write, e.timeout, sent, pool, ran_out))
end
