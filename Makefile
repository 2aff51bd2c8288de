# xdpstack build. `make` builds build/xdpstack and build/libxdpstack.a;
# `make SAN=1` builds the same into build-san/ with ASan + UBSan.
# `make check` runs unit and integration tests on both builds.

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
LDLIBS := -lxdp -lbpf -lelf -lz -lpcap
LDFLAGS += $(SANFLAGS)

LIB_SRCS := $(wildcard user/wire/*.c user/core/*.c user/dev/*.c user/net/*.c \
	user/tcp/*.c user/api/*.c)
APP_SRCS := $(wildcard user/app/*.c)
CTL_SRCS := $(wildcard tools/ctl/*.c)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
TCPT_SRCS := $(wildcard tests/tcp/test_*.c)

LIB_OBJS := $(LIB_SRCS:%.c=$(O)/%.o)
APP_OBJS := $(APP_SRCS:%.c=$(O)/%.o)
CTL_OBJS := $(CTL_SRCS:%.c=$(O)/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%) $(TCPT_SRCS:tests/tcp/%.c=$(O)/tests/%)

BPF_OBJ := $(O)/xdp_steer.bpf.o
BPF_SKEL := $(O)/xdp_steer.skel.h

.PHONY: all deps check unit integration clean demo bench format fuzz
all: $(O)/xdpstack $(O)/libxdpstack.a $(if $(CTL_SRCS),$(O)/xdpstack-ctl)

deps:
	@sh scripts/deps.sh

$(BPF_OBJ): bpf/xdp_steer.bpf.c bpf/steer.h
	@mkdir -p $(@D)
	$(CLANG) -O2 -g -Wall -target bpf -I$(ARCH_INC) -I. -c $< -o $@

$(BPF_SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name xdp_steer > $@.tmp && mv $@.tmp $@

# afxdp.c embeds the steering program through the skeleton.
$(O)/user/dev/afxdp.o: $(BPF_SKEL)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(XS_CFLAGS) -c $< -o $@

$(O)/libxdpstack.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(O)/xdpstack: $(APP_OBJS) $(O)/libxdpstack.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/xdpstack-ctl: $(CTL_OBJS) $(O)/libxdpstack.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/tests/%: tests/unit/%.c $(O)/libxdpstack.a
	@mkdir -p $(@D)
	$(CC) $(XS_CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(O)/libxdpstack.a $(LDLIBS) -lcmocka

# Scripted TCP conversations (virtual clock), same framework as unit tests.
$(O)/tests/%: tests/tcp/%.c $(O)/libxdpstack.a
	@mkdir -p $(@D)
	$(CC) $(XS_CFLAGS) -Itests/unit -Itests/tcp $(LDFLAGS) -o $@ $< $(O)/libxdpstack.a $(LDLIBS) -lcmocka

# Unit tests: cmocka binaries, no root needed. Every binary runs; the
# target fails at the end if any did.
unit: deps all $(UNIT_BINS)
	@rc=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || rc=1; done; exit $$rc

# libFuzzer targets over the library without the real devices (clang).
FUZZ_SRCS := $(filter-out user/dev/afxdp.c user/dev/pcap.c,$(LIB_SRCS))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(O)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TIME ?= 30
# Seconds per fuzz target in `make check`, a brief run on every check (`make fuzz` runs longer).
CHECK_FUZZ_TIME ?= 20
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser -I.

$(O)/fuzz/%: tests/fuzz/%.c $(FUZZ_SRCS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_SRCS)

fuzz: $(FUZZ_BINS)
	@set -e; for f in $(FUZZ_BINS); do n=$${f##*/}; n=$${n#fuzz_}; \
	  mkdir -p $(O)/fuzz/corpus-$$n; \
	  $$f -max_len=2048 -max_total_time=$(FUZZ_TIME) $(O)/fuzz/corpus-$$n \
	    $$([ -d tests/fuzz/corpus/$$n ] && echo tests/fuzz/corpus/$$n); done

# Integration tests: pytest, real kernel peer over veth in namespaces (root).
integration: deps all
	XS_BUILD=$(O) /usr/bin/python3 -m pytest -q -ra tests/integration

check:
	@sh scripts/deps.sh
	$(MAKE) unit
	$(MAKE) SAN=1 unit
	$(MAKE) integration
	$(MAKE) SAN=1 integration
	$(MAKE) fuzz FUZZ_TIME=$(CHECK_FUZZ_TIME)

demo: deps all
	sh scripts/demo.sh $(O)

$(O)/udp_bench: tools/bench/udp_bench.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) -o $@ $<

# The stack alone: two stacks over the in-memory device in one process.
# Built with every build (sanitizers included), so the tests exercise it.
all: $(O)/stack_bench $(O)/udp_bench
$(O)/stack_bench: tools/bench/stack_bench.c $(O)/libxdpstack.a
	@mkdir -p $(@D)
	$(CC) $(XS_CFLAGS) $(LDFLAGS) -o $@ $< $(O)/libxdpstack.a $(LDLIBS)

# Benchmarks: every workload against xdpstack and the kernel on one veth pair
# (scripts/bench.py, as root); raw JSON in $(O)/bench/, the latest section of
# docs/BENCHMARKS.md and the plots in docs/ regenerated. QUICK=1: one
# repetition, smaller sizes, under 3 minutes.
QUICK ?= 0
bench: deps all $(O)/udp_bench $(O)/stack_bench
	/usr/bin/python3 scripts/bench.py --build $(O) $(if $(filter 1,$(QUICK)),--quick)

format:
	clang-format -i $(LIB_SRCS) $(APP_SRCS) $(CTL_SRCS) $(wildcard user/*/*.h include/xdpstack/*.h)

clean:
	rm -rf build build-san

-include $(LIB_OBJS:.o=.d) $(APP_OBJS:.o=.d) $(CTL_OBJS:.o=.d) $(UNIT_BINS:=.d)
