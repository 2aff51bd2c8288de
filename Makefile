# xdpstack build. `make` builds build/xdpstack, build/xdpstack-ctl,
# build/libxdpstack.a and build/libxdpstack.so.*; `make SAN=1` builds the same
# into build-san/ with ASan + UBSan. `make check` runs unit and integration
# tests on both builds; `make install PREFIX=/usr/local DESTDIR=` installs.

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

# The shared library: soname libxdpstack.so.$(SO_MAJOR); the version script
# exports the public xs_ API and hides the rest (see docs/DESIGN.md, Installing).
XS_VERSION := 0.1.0
SO_MAJOR := 0
SO_NAME := libxdpstack.so.$(SO_MAJOR)
SO_REAL := libxdpstack.so.$(XS_VERSION)
SO_MAP := user/libxdpstack.map

BPF_OBJ := $(O)/xdp_steer.bpf.o
BPF_SKEL := $(O)/xdp_steer.skel.h

.PHONY: all deps check unit integration clean demo bench format fuzz install uninstall
all: $(O)/xdpstack $(O)/libxdpstack.a $(O)/$(SO_REAL) $(O)/$(SO_NAME) $(O)/libxdpstack.so \
	$(if $(CTL_SRCS),$(O)/xdpstack-ctl)

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

# Benchmarks: the same workload against xdpstack and the kernel on one veth
# pair; results appended to docs/BENCHMARKS.md by hand from the printed table.
bench: deps all $(O)/udp_bench
	sh scripts/bench.sh $(O)

format:
	clang-format -i $(LIB_SRCS) $(APP_SRCS) $(CTL_SRCS) $(wildcard user/*/*.h include/xdpstack/*.h)

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

-include $(LIB_OBJS:.o=.d) $(APP_OBJS:.o=.d) $(CTL_OBJS:.o=.d) $(UNIT_BINS:=.d)
