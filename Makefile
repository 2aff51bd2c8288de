# xdpstack build. `make` builds build/xdpstack, build/xdpstack-ctl,
# build/libxdpstack.a and build/libxdpstack.so.*; `make SAN=1` builds the same
# into build-san/ with ASan + UBSan. `make check` runs unit and integration
# tests on both builds, fuzzing, a 60 s soak; `make install PREFIX=/usr/local
# DESTDIR=` installs.

SAN ?= 0
ifeq ($(SAN),1)
O := build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT := -O1
else
O := build
SANFLAGS :=
OPT := -O2
endif

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH_INC := /usr/include/$(shell $(CC) -dumpmachine)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS ?= $(OPT) -g
XS_CFLAGS := $(CFLAGS) $(WARN) $(SANFLAGS) -std=gnu11 -D_GNU_SOURCE -MMD -MP \
	-Iinclude -Iuser -I. -I$(O)
# OpenSSL: TLS sessions over the stack's TCP (user/tls/).
TLS_LIBS := -lssl -lcrypto
LDLIBS := -lxdp -lbpf -lelf -lz -lpcap $(TLS_LIBS)
LDFLAGS += $(SANFLAGS)

LIB_SRCS := $(wildcard user/wire/*.c user/core/*.c user/dev/*.c user/net/*.c \
	user/net6/*.c user/tcp/*.c user/tls/*.c user/api/*.c)
APP_SRCS := $(wildcard user/app/*.c)
CTL_SRCS := $(wildcard tools/ctl/*.c)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
BENCH_BINS := $(O)/xs_loadgen $(O)/xs_echod $(O)/udp_bench $(O)/stack_bench $(O)/xs_flood \
	$(O)/tcp_rr
TCPT_SRCS := $(wildcard tests/tcp/test_*.c)

LIB_OBJS := $(LIB_SRCS:%.c=$(O)/%.o)
APP_OBJS := $(APP_SRCS:%.c=$(O)/%.o)
CTL_OBJS := $(CTL_SRCS:%.c=$(O)/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%) $(TCPT_SRCS:tests/tcp/%.c=$(O)/tests/%)

# The shared library: soname libxdpstack.so.$(SO_MAJOR); the version script
# exports the public xs_ API and hides the rest (see docs/DESIGN.md, Installing).
XS_VERSION := 0.1.0
SO_MAJOR := 0
SO_NAME := libxdpstack.so.$(SO_MAJOR)
SO_REAL := libxdpstack.so.$(XS_VERSION)
SO_MAP := user/libxdpstack.map

# Example programs: built against the public headers only (-Iinclude, no
# -Iuser) and the static library, as an embedder would.
EXAMPLE_SRCS := $(wildcard tools/examples/*.c)
EXAMPLE_BINS := $(EXAMPLE_SRCS:tools/examples/%.c=$(O)/examples/%)

BPF_OBJ := $(O)/xdp_steer.bpf.o
BPF_SKEL := $(O)/xdp_steer.skel.h

.PHONY: all deps check unit compile-fail integration integration-busy-poll fuzz-bins clean demo bench bench-busy-poll bench-selftest profile bulk-cpu \
	format fuzz fuzz-replay soak install uninstall
all: $(O)/xdpstack $(O)/libxdpstack.a $(O)/$(SO_REAL) $(O)/$(SO_NAME) $(O)/libxdpstack.so \
	$(if $(CTL_SRCS),$(O)/xdpstack-ctl) $(BENCH_BINS) $(EXAMPLE_BINS)

deps:
	@sh scripts/deps.sh

$(BPF_OBJ): bpf/xdp_steer.bpf.c bpf/steer.h
	@mkdir -p $(@D)
	$(CLANG) -O2 -g -Wall -target bpf -I$(ARCH_INC) -I. -c $< -o $@

$(BPF_SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name xdp_steer > $@.tmp && mv $@.tmp $@

# afxdp_prog.c embeds the steering program through the skeleton.
$(O)/user/dev/afxdp_prog.o: $(BPF_SKEL)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(XS_CFLAGS) -c $< -o $@

# Library objects are position-independent: the same objects make the
# archive and the shared object.
$(LIB_OBJS): XS_CFLAGS += -fPIC

$(O)/libxdpstack.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(O)/$(SO_REAL): $(LIB_OBJS) $(SO_MAP)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,$(SO_NAME) -Wl,--version-script=$(SO_MAP) \
		-Wl,--no-undefined -o $@ $(LIB_OBJS) $(LDLIBS)

$(O)/$(SO_NAME) $(O)/libxdpstack.so: $(O)/$(SO_REAL)
	ln -sf $(SO_REAL) $@

$(O)/xdpstack: $(APP_OBJS) $(O)/libxdpstack.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/examples/%: tools/examples/%.c tools/examples/example.h $(O)/libxdpstack.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) $(SANFLAGS) -std=gnu11 -D_GNU_SOURCE -Iinclude $(LDFLAGS) \
		-o $@ $< $(O)/libxdpstack.a $(LDLIBS)

$(O)/xdpstack-ctl: $(CTL_OBJS) $(O)/libxdpstack.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/tests/%: tests/unit/%.c $(O)/libxdpstack.a
	@mkdir -p $(@D)
	$(CC) $(XS_CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(O)/libxdpstack.a $(LDLIBS) -lcmocka

# Runs the steering program itself (BPF_PROG_TEST_RUN): rebuilt with it.
$(O)/tests/test_steer_bpf: $(BPF_SKEL)

# Scripted TCP conversations (virtual clock), same framework as unit tests.
$(O)/tests/%: tests/tcp/%.c $(O)/libxdpstack.a
	@mkdir -p $(@D)
	$(CC) $(XS_CFLAGS) -Itests/unit -Itests/tcp $(LDFLAGS) -o $@ $< $(O)/libxdpstack.a $(LDLIBS) -lcmocka

# libFuzzer targets (clang), one per parser and per whole input path: the
# library without the real devices (nor create.c, which makes them) is compiled once with the fuzzer's
# instrumentation into $(O)/fuzz/obj/, each target links it. fuzz_ctl also
# links the daemon's control-socket code (user/app without main.c) and the
# counter view its stats command prints.
FUZZ_SRCS := $(filter-out user/dev/afxdp%.c user/dev/pcap.c user/api/create.c,$(LIB_SRCS))
FUZZ_APP_SRCS := $(filter user/app/ctl%.c user/app/cli.c user/app/counters.c,$(APP_SRCS))
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_NAMES:%=$(O)/fuzz/fuzz_%)
FUZZ_OBJS := $(FUZZ_SRCS:%.c=$(O)/fuzz/obj/%.o)
FUZZ_APP_OBJS := $(FUZZ_APP_SRCS:%.c=$(O)/fuzz/obj/%.o)
# Seconds per target for `make fuzz`; FUZZ_TIME is the older name, still honoured.
FUZZ_TIME ?= 30
FUZZ_SECONDS ?= $(FUZZ_TIME)
# Seconds per target in `make check`: a brief run of every target each check.
CHECK_FUZZ_TIME ?= 3
CHECK_FUZZ_SECONDS ?= $(CHECK_FUZZ_TIME)
FUZZ_CFLAGS := -g -O1 -fno-sanitize-recover=undefined -std=gnu11 -D_GNU_SOURCE \
	-Iinclude -Iuser -I. -Itests/fuzz
FUZZ_FLAGS := -fsanitize=fuzzer,address,undefined $(FUZZ_CFLAGS)

$(O)/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CLANG) -fsanitize=fuzzer-no-link,address,undefined $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

FUZZ_HDRS := $(wildcard tests/fuzz/*.h)

$(O)/fuzz/fuzz_ctl: tests/fuzz/fuzz_ctl.c $(FUZZ_OBJS) $(FUZZ_APP_OBJS) $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_FLAGS) -o $@ $(filter-out %.h,$^) $(TLS_LIBS)

$(O)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS) $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_FLAGS) -o $@ $(filter-out %.h,$^) $(TLS_LIBS)

# Each target in turn for FUZZ_SECONDS, from the committed seeds plus what
# earlier runs found ($(O)/fuzz/corpus-NAME/); stops at the first crash.
fuzz-bins: $(FUZZ_BINS)
fuzz: $(FUZZ_BINS)
	@set -e; for n in $(FUZZ_NAMES); do echo "== fuzz_$$n ($(FUZZ_SECONDS) s)"; \
	  mkdir -p $(O)/fuzz/corpus-$$n; \
	  $(O)/fuzz/fuzz_$$n -max_len=4096 -max_total_time=$(FUZZ_SECONDS) \
	    -print_final_stats=0 $(O)/fuzz/corpus-$$n tests/fuzz/corpus/$$n; done

# Replay: every committed input through every target once, no fuzzing loop,
# built with $(CC) and a plain main() (tests/fuzz/replay.c), so it runs in
# both builds (SAN=1: ASan + UBSan) as a quick regression.
REPLAY_BINS := $(FUZZ_NAMES:%=$(O)/tests/replay_%)
$(O)/tests/replay_ctl: tests/fuzz/fuzz_ctl.c tests/fuzz/replay.c \
		$(filter-out $(O)/user/app/main.o,$(APP_OBJS)) $(O)/libxdpstack.a $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(CC) $(XS_CFLAGS) -Itests/fuzz $(LDFLAGS) -o $@ $(filter-out %.h,$^) $(LDLIBS)

$(O)/tests/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(O)/libxdpstack.a $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(CC) $(XS_CFLAGS) -Itests/fuzz $(LDFLAGS) -o $@ $(filter-out %.h,$^) $(LDLIBS)

fuzz-replay: $(REPLAY_BINS)
	@rc=0; for n in $(FUZZ_NAMES); do echo "== replay_$$n"; \
	  $(O)/tests/replay_$$n tests/fuzz/corpus/$$n || rc=1; done; exit $$rc

# Unit tests: cmocka binaries, no root needed. Every binary runs; the
# target fails at the end if any did. Then the typed handles' compile-fail
# cases (tests/unit/compile_fail/: each must fail to compile, with its
# expected diagnostic).
unit: deps all $(UNIT_BINS) $(REPLAY_BINS)
	@rc=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || rc=1; done; \
	  for n in $(FUZZ_NAMES); do echo "== $(O)/tests/replay_$$n"; \
	    $(O)/tests/replay_$$n tests/fuzz/corpus/$$n || rc=1; done; \
	  echo "== compile-fail"; sh tests/unit/compile_fail.sh $(CC) || rc=1; exit $$rc

compile-fail:
	sh tests/unit/compile_fail.sh $(CC)

# Integration tests: pytest, real kernel peer over veth in namespaces (root).
integration: deps all
	XS_BUILD=$(O) /usr/bin/python3 -m pytest -q -ra tests/integration

# The same tests with every daemon in busy-poll mode (XS_BUSY_POLL=1 adds
# --busy-poll; XS_BUSY_POLL=US sets the idle period). `make check` runs a
# representative subset; BUSY_POLL_TESTS= (empty) runs the whole suite.
BUSY_POLL_TESTS ?= tests/integration/test_basic.py tests/integration/test_tcp.py
integration-busy-poll: deps all
	XS_BUSY_POLL=$${XS_BUSY_POLL:-1} XS_BUILD=$(O) /usr/bin/python3 -m pytest -q -ra \
		$(if $(strip $(BUSY_POLL_TESTS)),$(BUSY_POLL_TESTS),tests/integration)

# Builds in check use every core; the tests themselves run one at a time.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
check:
	@sh scripts/deps.sh
	$(MAKE) -j$(JOBS) unit
	$(MAKE) -j$(JOBS) SAN=1 unit
	$(MAKE) integration
	$(MAKE) SAN=1 integration
	$(MAKE) integration-busy-poll
	$(MAKE) -j$(JOBS) fuzz-bins
	$(MAKE) fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS)
	$(MAKE) soak SOAK_SECONDS=$(CHECK_SOAK_SECONDS)

# Soak: the ASan+UBSan daemon under mixed load (echo, bulk, short connections,
# UDP, fragments, nftables loss/dup, hostile frames) for SOAK_SECONDS; checks
# RSS stays flat, every UMEM frame comes home and the counters add up
# (scripts/soak.py, docs/SOAK.md). Always the sanitizer build.
SOAK_SECONDS ?= 1800
CHECK_SOAK_SECONDS ?= 60
soak: deps
	$(MAKE) SAN=1 all
	/usr/bin/python3 scripts/soak.py --seconds $(SOAK_SECONDS) --build build-san \
		--json build-san/soak-$(SOAK_SECONDS)s.json

demo: deps all
	sh scripts/demo.sh $(O)

# Load generator and the kernel-side echo server it is compared against
# (tools/bench/): built with every build, sanitizers included, so the
# integration tests exercise them.
LG_SRCS := tools/bench/xs_loadgen.c tools/bench/lg_worker.c tools/bench/lg_hist.c
BENCH_CFLAGS := $(CFLAGS) $(WARN) $(SANFLAGS) -std=gnu11 -D_GNU_SOURCE

$(O)/xs_loadgen: $(LG_SRCS) tools/bench/loadgen.h
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $(LDFLAGS) -o $@ $(LG_SRCS)

$(O)/xs_echod: tools/bench/xs_echod.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $(LDFLAGS) -o $@ $<

# UDP flood (the filter's bench row and tests): built with every build.
$(O)/xs_flood: tools/bench/xs_flood.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $(LDFLAGS) -o $@ $<

$(O)/udp_bench: tools/bench/udp_bench.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) -o $@ $<

$(O)/tcp_rr: tools/bench/tcp_rr.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) -o $@ $<

# The stack alone: two stacks over the in-memory device in one process;
# built with every build (sanitizers included), so the tests exercise it.
$(O)/stack_bench: tools/bench/stack_bench.c $(O)/libxdpstack.a
	@mkdir -p $(@D)
	$(CC) $(XS_CFLAGS) $(LDFLAGS) -o $@ $< $(O)/libxdpstack.a $(LDLIBS)

# Benchmarks: every workload against xdpstack and the kernel on one veth pair
# (scripts/bench.py, as root); raw JSON in $(O)/bench/, the latest section of
# docs/BENCHMARKS.md and the plots in docs/ regenerated. QUICK=1: one
# repetition, smaller sizes, under 3 minutes.
QUICK ?= 0
bench: deps all
	/usr/bin/python3 scripts/bench.py --build $(O) $(if $(filter 1,$(QUICK)),--quick)

# Busy-poll on/off against the kernel: ping, UDP and TCP request/response.
# The bench script's own test, every row once (QUICK) on the optimised build.
bench-selftest: deps all
	XS_BENCH_WHOLE=1 XS_BUILD=$(O) /usr/bin/python3 -m pytest -q -ra \
		tests/integration/test_bench.py::test_bench_quick_whole

bench-busy-poll: deps all $(O)/udp_bench $(O)/tcp_rr
	sh scripts/bench_busypoll.sh $(O)

# perf profiles (cpu-clock, call graphs) of the stack alone and of the daemon
# under TCP bulk and request/response: the tops of docs/PROFILE.md.
profile: deps all
	/usr/bin/python3 scripts/profile.py --build $(O)

# The daemon's CPU per GB of TCP bulk against iperf3 (scripts/bulk_cpu.py, as
# root); A/B: scripts/bulk_cpu.py --bin old=PATH --bin new=PATH --kernel.
bulk-cpu: deps all
	/usr/bin/python3 scripts/bulk_cpu.py --bin $(O)/xdpstack --kernel

format:
	clang-format -i $(LIB_SRCS) $(APP_SRCS) $(CTL_SRCS) $(wildcard user/*/*.h include/xdpstack/*.h) \
		$(LG_SRCS) tools/bench/loadgen.h tools/bench/xs_echod.c tools/bench/stack_bench.c \
		tools/bench/xs_flood.c

clean:
	rm -rf build build-san

# Installation: binaries, the library (static, shared with its soname
# links), the public headers, a pkg-config file and the man pages. The
# systemd unit goes to the docs unless SYSTEMD_UNIT=1 puts it in
# $(SYSTEMDDIR). DESTDIR stages the tree (packaging, tests).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/xdpstack
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
SYSTEMD_UNIT ?= 0
INSTALL ?= install
PUB_HEADERS := $(wildcard include/xdpstack/*.h)
MAN8 := docs/man/xdpstack.8 docs/man/xdpstack-ctl.8
MAN3 := docs/man/libxdpstack.3

install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(INCLUDEDIR)/xdpstack $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man3 \
		$(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 0755 $(O)/xdpstack $(O)/xdpstack-ctl $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 0644 $(O)/libxdpstack.a $(DESTDIR)$(LIBDIR)/
	$(INSTALL) -m 0755 $(O)/$(SO_REAL) $(DESTDIR)$(LIBDIR)/
	ln -sf $(SO_REAL) $(DESTDIR)$(LIBDIR)/$(SO_NAME)
	ln -sf $(SO_NAME) $(DESTDIR)$(LIBDIR)/libxdpstack.so
	$(INSTALL) -m 0644 $(PUB_HEADERS) $(DESTDIR)$(INCLUDEDIR)/xdpstack/
	# The .pc file is made here, from this install's PREFIX and directories.
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(XS_VERSION)|' \
	    user/libxdpstack.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/libxdpstack.pc
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/libxdpstack.pc
	$(INSTALL) -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 $(MAN3) $(DESTDIR)$(MANDIR)/man3/
	$(INSTALL) -m 0644 docs/xdpstack@.service docs/xdpstack.env.example $(DESTDIR)$(DOCDIR)/
ifeq ($(SYSTEMD_UNIT),1)
	$(INSTALL) -d $(DESTDIR)$(SYSTEMDDIR)
	sed 's|/usr/local/bin|$(BINDIR)|g' docs/xdpstack@.service \
		> $(DESTDIR)$(SYSTEMDDIR)/xdpstack@.service
endif

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/xdpstack $(DESTDIR)$(BINDIR)/xdpstack-ctl
	rm -f $(DESTDIR)$(LIBDIR)/libxdpstack.a $(DESTDIR)$(LIBDIR)/$(SO_REAL) \
		$(DESTDIR)$(LIBDIR)/$(SO_NAME) $(DESTDIR)$(LIBDIR)/libxdpstack.so
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/xdpstack/,$(notdir $(PUB_HEADERS)))
	-rmdir $(DESTDIR)$(INCLUDEDIR)/xdpstack
	rm -f $(DESTDIR)$(PKGCONFIGDIR)/libxdpstack.pc
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN8)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(MAN3)))
	rm -f $(DESTDIR)$(DOCDIR)/xdpstack@.service $(DESTDIR)$(DOCDIR)/xdpstack.env.example
	-rmdir $(DESTDIR)$(DOCDIR)
	rm -f $(DESTDIR)$(SYSTEMDDIR)/xdpstack@.service

-include $(LIB_OBJS:.o=.d) $(APP_OBJS:.o=.d) $(CTL_OBJS:.o=.d) $(UNIT_BINS:=.d) \
	$(FUZZ_OBJS:.o=.d) $(FUZZ_APP_OBJS:.o=.d)
