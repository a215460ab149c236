// A Portcullis fleet for the tests in this directory: N `portcullis` processes on one database
// and one Redis, behind Debian's nginx (round robin), as in production.
//
// Configuration (run.mjs passes it through the environment): FLEET_BIN (the binary),
// FLEET_DATABASE_URL (one PostgreSQL database, shared by every fleet a run starts),
// FLEET_REDIS_URL, FLEET_DIR (a temp dir for configs and logs), FLEET_NGINX (default
// /usr/sbin/nginx).
//
// Every instance: the same BETTER_AUTH_SECRET, BETTER_AUTH_URL = the nginx origin, rate limiting
// on with the Redis storage under a key prefix unique to the fleet, the client IP read from
// X-Forwarded-For past the trusted proxy 127.0.0.1 (nginx appends the address it saw, so a test
// client chooses its IP by sending X-Forwarded-For itself).
//
// nginx: one worker (one round-robin state, so consecutive requests strictly alternate between
// the instances), no keep-alive to the instances (every proxied request is a new connection, so an
// instance that stops accepting receives no new request), `proxy_next_upstream error timeout`
// (nginx's default: a refused connection moves on to the next instance — also for a POST, which
// was not sent — but a request already sent is never sent twice), `max_fails=0` (a restarted
// instance takes traffic again at once), and an `X-Upstream` response header naming the instance
// that answered.

import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { SECRET, freePort, sleep, startServer, waitReady } from "../js/servers.mjs";

const env = (name) => {
	const v = process.env[name];
	if (!v) throw new Error(`${name} is not set; run the fleet tests with tests/fleet/run.mjs`);
	return v;
};

export const config = () => ({
	bin: env("FLEET_BIN"),
	databaseUrl: env("FLEET_DATABASE_URL"),
	redisUrl: env("FLEET_REDIS_URL"),
	dir: env("FLEET_DIR"),
	nginx: process.env.FLEET_NGINX || "/usr/sbin/nginx",
});

/** The nginx configuration: listen on `port`, round robin over `upstreams` (ports). */
export function nginxConf({ dir, port, upstreams }) {
	const servers = upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=0;`).join("\n");
	// As root, nginx would run its worker as `nobody`, which cannot enter the private temp dir.
	const user = process.getuid?.() === 0 ? "user root;\n" : "";
	return `${user}worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 1024; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream portcullis {
${servers}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://portcullis;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_next_upstream error timeout;
      add_header X-Upstream $upstream_addr always;
    }
  }
}
`;
}

/** Starts nginx in the foreground as a child (stopped by PID); resolves once it proxies. */
export async function startNginx({ nginx, dir, port, upstreams }) {
	mkdirSync(dir, { recursive: true });
	const conf = join(dir, "nginx.conf");
	writeFileSync(conf, nginxConf({ dir, port, upstreams }));
	const logFd = openSync(join(dir, "stderr.log"), "a");
	// -e: the start-up error log before the config is read (the default is a system path).
	const child = spawn(nginx, ["-p", dir, "-c", conf, "-e", join(dir, "error.log")], {
		stdio: ["ignore", logFd, logFd],
	});
	closeSync(logFd);
	const origin = `http://127.0.0.1:${port}`;
	await waitReady(`${origin}/api/auth/ok`, child, 30_000);
	return { origin, child, dir };
}

/** SIGTERM by PID; resolves with how the process ended ({code, signal}). */
export function terminate(child) {
	return new Promise((resolve) => {
		if (child.exitCode !== null || child.signalCode !== null) {
			return resolve({ code: child.exitCode, signal: child.signalCode });
		}
		child.once("exit", (code, signal) => resolve({ code, signal }));
		process.kill(child.pid, "SIGTERM");
	});
}

/**
 * Starts `size` instances and nginx in front of them. `name` keeps the fleet's files and Redis
 * keys apart from other fleets of the run. Returns {origin, instances, restartable helpers, stop()}.
 */
export async function startFleet({ name, size }) {
	const cfg = config();
	const dir = join(cfg.dir, name);
	mkdirSync(dir, { recursive: true });
	const nginxPort = await freePort();
	const origin = `http://127.0.0.1:${nginxPort}`;
	const redisPrefix = `portcullis-fleet-test:${process.pid}-${Date.now().toString(36)}-${name}:`;
	const instanceEnv = {
		BETTER_AUTH_SECRET: SECRET,
		BETTER_AUTH_URL: origin,
		PORTCULLIS_RATE_LIMIT: "on",
		PORTCULLIS_RATE_LIMIT_STORAGE: "redis",
		PORTCULLIS_REDIS_URL: cfg.redisUrl,
		PORTCULLIS_REDIS_KEY_PREFIX: redisPrefix,
		PORTCULLIS_IP_ADDRESS_HEADERS: "x-forwarded-for",
		PORTCULLIS_TRUSTED_PROXIES: "127.0.0.1",
	};
	const instances = [];
	for (let i = 0; i < size; i++) {
		const label = String.fromCharCode(65 + i); // A, B, …
		const port = await freePort();
		instances.push({ label, port, address: `127.0.0.1:${port}`, lives: 0, server: null });
	}
	/** Starts (or starts again, on the same port) one instance and waits until it answers. */
	async function launch(inst) {
		inst.lives += 1;
		inst.server = await startServer({
			server: "portcullis",
			bin: cfg.bin,
			databaseUrl: cfg.databaseUrl,
			dir,
			port: inst.port,
			env: instanceEnv,
			label: `fleet ${name} ${inst.label}`,
			logName: `${inst.label}-${inst.lives}.log`,
		});
		await inst.server.ready();
	}
	let nginx = null;
	const fleet = {
		name,
		origin,
		instances,
		redisPrefix,
		/** The instance label behind an `X-Upstream` value ("127.0.0.1:port", or a list after retries). */
		labelOf(upstream) {
			const last = (upstream ?? "").split(",").pop().trim();
			return instances.find((i) => i.address === last)?.label ?? `?${upstream}`;
		},
		/** SIGTERM to one instance; resolves with its exit once it is gone. */
		async terminate(inst) {
			const exit = await terminate(inst.server.child);
			await inst.server.shutdown(); // the OTP listener; the process is already gone
			return exit;
		},
		launch,
		async stop() {
			if (nginx) await terminate(nginx.child);
			for (const inst of instances) if (inst.server) await inst.server.shutdown();
		},
		dumpLogs() {
			for (const inst of instances) inst.server?.dumpLog();
			try {
				console.error(`----- nginx error log -----\n${readFileSync(join(dir, "nginx", "error.log"), "utf8")}`);
			} catch {}
		},
	};
	try {
		for (const inst of instances) await launch(inst);
		nginx = await startNginx({
			nginx: cfg.nginx,
			dir: join(dir, "nginx"),
			port: nginxPort,
			upstreams: instances.map((i) => i.port),
		});
	} catch (err) {
		fleet.dumpLogs();
		await fleet.stop();
		throw err;
	}
	return fleet;
}

export { sleep };
