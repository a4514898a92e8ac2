package worker

// DefaultTemplate is the commented config printed by
// `sealant worker config default`. A test checks that it parses.
const DefaultTemplate = `# Sealant sealing worker. Sections follow damocles-worker's config so an
# existing template carries over; see docs and 'sealant worker config default'.

[worker]
# Identity towards the managers: must equal the subject of the worker token.
name = "worker-1"
# Admin API (threads, pause, resume). Keep it on loopback; managers reach
# it through the URL sent in the heartbeat.
admin_listen = "127.0.0.1:17890"
# admin_url = "http://10.0.0.5:17890/rpc/v0"
ping_interval = "30s"
# parent_cache_dir = "/var/tmp/filecoin-parents"
# local_pieces_dirs = ["/mnt/pieces"]   # files named by piece CID

# One worker may serve several managers; a thread names the one it pulls
# from (default: the first).
[[manager]]
name = "main"
# ws:// carries all threads' calls on one WebSocket (re-dialled if it
# drops); http:// sends a request per call. Both reach the same API.
url = "ws://127.0.0.1:1789/rpc/v0"
token_file = "/etc/sealant/worker.token"
# token = "eyJ..."

[sealing]
# Empty lists accept anything the manager offers.
allowed_tenants = []
allowed_miners = []
allowed_sizes = ["32GiB"]
enable_deals = true
disable_cc = false
max_retries = 5             # temporary failures before a thread pauses
retry_backoff = "30s"       # doubles per retry ...
retry_backoff_max = "30m"   # ... up to this
seal_interval = "30s"       # idle poll when the manager has no work
rpc_polling_interval = "3m" # on-chain state polls
resubmit_delay = "30s"
workers = 0                 # goroutines per in-process stage (0 = all cores)

# One sealing thread per local store. <location>/config.toml may hold a
# [sealing] section that is re-read before each new sector.
[[sealing_thread]]
name = "nvme1"
location = "/mnt/nvme1/sealant"
# manager = "main"
# attached = "persist-1"
# [sealing_thread.sealing]
# allowed_sizes = ["2KiB"]

[[sealing_thread]]
name = "nvme2"
location = "/mnt/nvme2/sealant"

# A batch thread: batch_size sectors of one tenant and size are allocated
# together and their PC1 is labelled in one pass (one parent-cache read per
# node for all, two labels hashed at once per core); each sector then goes
# through PC2, the chain, C1, C2 and delivery on its own. It runs as member
# threads nvme3.0 … nvme3.3 with stores in <location>/0 … /3. PC1 memory:
# 2 × sector size per sector (64 GiB each at 32GiB), refused up front if it
# does not fit. batch_wait bounds how long members wait for each other.
# [[sealing_thread]]
# name = "nvme3"
# location = "/mnt/nvme3/sealant"
# plan = "batch"
# batch_size = 4
# batch_wait = "5m"

# Persist stores: finalized sectors (sealed + cache/{tree-r-last, p_aux,
# t_aux}) are kept here in lotus layout until delivered.
[[attached]]
name = "persist-1"
location = "/mnt/persist1"

[processors.limitation.concurrent]
pc1 = 2
pc2 = 1
c2 = 1

# Named locks shared by processors, e.g. one GPU for pc2 and c2.
[processors.ext_locks]
gpu0 = 1

# External processors speak damocles' JSON-lines protocol; without a
# section a stage runs in-process. bin defaults to this binary with
# args ["processor", "<stage>"].
# [[processors.pc1]]
# concurrent = 2
# cpuset = "0-7"
# envs = { GOMAXPROCS = "8" }

# GPU PC2 and C2 in damocles-worker (built with --features cuda or
# cuda-supraseal): it gets the full pc1out, as from a damocles worker. See
# docs/processors.md.
# [[processors.pc2]]
# bin = "/usr/local/bin/damocles-worker"
# args = ["processor", "pc2"]
# locks = ["gpu0"]
# envs = { CUDA_VISIBLE_DEVICES = "0" }

# A real network needs a C2 (Groth16) prover; without one sectors stop at
# C2 with a clear message. On Sealant's devnet the labelled devnet proof is
# used instead.
# [[processors.c2]]
# bin = "/usr/local/bin/damocles-worker"
# args = ["processor", "c2"]
# locks = ["gpu0"]
# envs = { CUDA_VISIBLE_DEVICES = "0" }
`
