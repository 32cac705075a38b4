# lb: small Unix tools for the CARLA Leaderboard backend.  See README.
# GNU make and pkg-config.  Every cmd/*.c is a tool, every lib/*.c goes into
# lib/liblb.a, every tests/unit/check_*.c is a Check suite.

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
PKGS	 = libcurl libcjson yaml-0.1 openssl expat

CFLAGS	?= -g -O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2
ifeq ($(SANITIZE),1)
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined
endif
ifeq ($(WERROR),1)
WFLAGS	 = -Werror
endif
# override: keep these even when CFLAGS is given on the command line
override CFLAGS += -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -Ilib \
	   -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wno-unused-parameter $(WFLAGS) $(SANFLAGS) -pthread \
	   $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
override LDFLAGS += $(SANFLAGS) -pthread
override LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm

CMDS	 = $(patsubst cmd/%.c,%,$(wildcard cmd/*.c))
BIN	 = $(CMDS:%=cmd/%)
LIBSRC	 = $(wildcard lib/*.c)
LIBOBJ	 = $(LIBSRC:.c=.o)
HDR	 = $(wildcard lib/*.h)
UNIT	 = $(patsubst %.c,%,$(wildcard tests/unit/check_*.c))
TOOLS	 = $(patsubst %.c,%,$(wildcard tests/tools/*.c))
FUZZ	 = $(patsubst %.c,%,$(wildcard tests/fuzz/fuzz_*.c))
SCRIPTS	 = $(wildcard scripts/lb-*)
MAN1	 = $(wildcard man/*.1)
MAN5	 = $(wildcard man/*.5)
MAN7	 = $(wildcard man/*.7)

all: deps $(BIN) $(TOOLS)

# Rebuild everything when the flags change (SANITIZE=1 and back).
.flags: FRC
	@echo '$(CC) $(CFLAGS) $(LDFLAGS)' | cmp -s - $@ || \
	    echo '$(CC) $(CFLAGS) $(LDFLAGS)' >$@

%.o: %.c $(HDR) .flags
	$(CC) $(CFLAGS) -c -o $@ $<

$(BIN): cmd/%: cmd/%.o lib/liblb.a
	$(CC) $(LDFLAGS) -o $@ $< lib/liblb.a $(LDLIBS)

$(TOOLS): %: %.o lib/liblb.a
	$(CC) $(LDFLAGS) -o $@ $< lib/liblb.a $(LDLIBS)

lib/liblb.a: $(LIBOBJ)
	rm -f $@
	$(AR) rcs $@ $(LIBOBJ)

$(UNIT): %: %.o lib/liblb.a
	$(CC) $(LDFLAGS) -o $@ $< lib/liblb.a $(LDLIBS) \
	    $$(pkg-config --libs check)

deps: FRC
	@scripts/install-deps --check-or-install

check: all $(UNIT)
	@LB_TOP=$(CURDIR) tests/run $(UNIT) $(sort $(wildcard tests/*.t))

check-faults: all
	@LB_TOP=$(CURDIR) VERBOSE=1 tests/run $(sort $(wildcard tests/faults/*.t))

bench: all
	@LB_TOP=$(CURDIR) tests/bench/run

demo: all
	@PATH="$(CURDIR)/cmd:$(CURDIR)/scripts:$$PATH" scripts/lb-demo

FUZZ_SECONDS ?= 30
fuzz: FRC
	@LB_TOP=$(CURDIR) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run

lint: FRC
	shellcheck -s sh $(SCRIPTS) scripts/install-deps tests/run tests/valgrind tests/fuzz/run tests/bench/run tests/*.sh .ci/run examples/local/fake-simulator
	mandoc -Tlint -W warning $(MAN1) $(MAN5) $(MAN7)

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(BIN) $(SCRIPTS) $(DESTDIR)$(BINDIR)
	install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1
	install -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5
	install -m 644 $(MAN7) $(DESTDIR)$(MANDIR)/man7

clean:
	rm -f $(BIN) cmd/*.o lib/*.o lib/liblb.a $(UNIT) tests/unit/*.o \
	    $(TOOLS) tests/tools/*.o $(FUZZ) .flags

FRC:
.PHONY: all check check-faults bench demo fuzz lint install clean deps
