# mod_natomm — see README.md. `make test` and `make run` install what is missing.
APXS       ?= apxs
PYTHON     ?= /usr/bin/python3
PREFIX_SHARE ?= /usr/share/mod_natomm
comma      := ,
WARN       = -Wall -Wextra -Werror -Wmissing-prototypes
SRC        = mod_natomm.c $(sort $(wildcard src/*.c src/*/*.c)) build/templates.c
HDR        = $(wildcard include/*.h)
LIBS       = -largon2 -lcrypto -lcurl -lsqlite3
MODULE     = .libs/mod_natomm.so
# natommctl: its own sources, and the module's statement table and pure
# units (tools/natommctl/ctl.h), archived so it links only what it uses
CC         ?= cc
CFLAGS     ?= -O2 -g
APR_CFLAGS := $(shell pkg-config --cflags apr-1 apr-util-1 2>/dev/null || echo -I/usr/include/apr-1.0)
APR_LIBS   := $(shell pkg-config --libs apr-1 apr-util-1 2>/dev/null || echo -lapr-1 -laprutil-1)
VERSION    := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog 2>/dev/null)
CTL        = build/natommctl
CTL_SRC    = $(wildcard tools/natommctl/*.c)
CTL_CFLAGS = -std=gnu99 $(CPPFLAGS) $(CFLAGS) $(WARN) -Iinclude $(APR_CFLAGS)
CTL_PURE   = $(patsubst src/core/%.c,build/ctl/core_%.o,$(wildcard src/core/*.c)) \
             build/ctl/sql.o

.PHONY: all install run test unit integration browser bench fuzz clean deps lint

all: $(MODULE) $(CTL)

build/ctl/core_%.o: src/core/%.c $(HDR)
	@mkdir -p build/ctl
	$(CC) $(CTL_CFLAGS) -c -o $@ $<

build/ctl/sql.o: src/db/sql.c include/natomm_sql.h
	@mkdir -p build/ctl
	$(CC) $(CTL_CFLAGS) -c -o $@ $<

build/ctl/libnatomm.a: $(CTL_PURE)
	rm -f $@
	$(AR) rcs $@ $^

$(CTL): $(CTL_SRC) tools/natommctl/ctl.h build/ctl/libnatomm.a
	$(CC) $(CTL_CFLAGS) -DNATOMM_VERSION=\"$(or $(VERSION),dev)\" $(LDFLAGS) -o $@ \
	    $(CTL_SRC) build/ctl/libnatomm.a -Wl,--as-needed $(APR_LIBS) -lcrypto -largon2 -lcurl

build/templates.c: scripts/embed-templates $(wildcard conf/mail/*/*.txt)
	@mkdir -p build
	sh scripts/embed-templates conf/mail > $@

# apxs's libtool lines go to build/apxs.log, shown when the build fails
$(MODULE): $(SRC) $(HDR)
	@mkdir -p build
	@echo "apxs -c mod_natomm.la (log: build/apxs.log)"
	@$(APXS) -c -o mod_natomm.la -I include $(addprefix -Wc$(comma),$(WARN)) \
	    -Wc,-DNATOMM_TEMPLATE_DIR=\\\"$(PREFIX_SHARE)/mail\\\" $(SRC) $(LIBS) \
	    > build/apxs.log 2>&1 || { cat build/apxs.log; exit 1; }

deps:
	@bash scripts/deps

# make install: the module, the mail templates, natommctl and its man page,
# and mods-available/natomm.load + natomm.conf; an edited natomm.conf is
# kept (the new one goes beside it as natomm.conf.dist). The Debian package
# (make deb) runs install-files and leaves the .load/.conf to dh_apache2.
MODULEDIR      ?= $(shell $(APXS) -q LIBEXECDIR)
APACHE_CONFDIR ?= /etc/apache2
SBINDIR        ?= /usr/local/sbin
MAN8DIR        ?= /usr/local/share/man/man8
MODS            = $(DESTDIR)$(APACHE_CONFDIR)/mods-available

.PHONY: install-files install-conf uninstall deb deb-test
install: install-files install-conf

install-files: all
	install -d $(DESTDIR)$(MODULEDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MAN8DIR)
	install -m 0644 $(MODULE) $(DESTDIR)$(MODULEDIR)/mod_natomm.so
	install -d $(DESTDIR)$(PREFIX_SHARE)/mail/en $(DESTDIR)$(PREFIX_SHARE)/mail/fr
	install -m 0644 conf/mail/en/*.txt $(DESTDIR)$(PREFIX_SHARE)/mail/en/
	install -m 0644 conf/mail/fr/*.txt $(DESTDIR)$(PREFIX_SHARE)/mail/fr/
	install -m 0755 $(CTL) $(DESTDIR)$(SBINDIR)/natommctl
	install -m 0644 tools/natommctl/natommctl.8 $(DESTDIR)$(MAN8DIR)/natommctl.8

install-conf:
	install -d $(MODS)
	install -m 0644 conf/natomm.load $(MODS)/natomm.load
	@if [ -e $(MODS)/natomm.conf ] && ! cmp -s conf/natomm.conf $(MODS)/natomm.conf; then \
	    install -m 0644 conf/natomm.conf $(MODS)/natomm.conf.dist; \
	    echo "kept your edited $(MODS)/natomm.conf; the new one is natomm.conf.dist"; \
	else \
	    install -m 0644 conf/natomm.conf $(MODS)/natomm.conf; \
	fi

# the reverse; an edited natomm.conf stays, and a module still enabled is
# disabled first (httpd would not start without its file)
uninstall:
	@if [ -z "$(DESTDIR)" ] && [ -e $(APACHE_CONFDIR)/mods-enabled/natomm.load ]; then \
	    echo "a2dismod natomm"; a2dismod -q natomm; \
	fi
	rm -f $(DESTDIR)$(MODULEDIR)/mod_natomm.so $(MODS)/natomm.load $(MODS)/natomm.conf.dist
	@if [ -e $(MODS)/natomm.conf ] && ! cmp -s conf/natomm.conf $(MODS)/natomm.conf; then \
	    echo "kept your edited $(MODS)/natomm.conf"; \
	else \
	    rm -f $(MODS)/natomm.conf; \
	fi
	rm -rf $(DESTDIR)$(PREFIX_SHARE)
	rm -f $(DESTDIR)$(SBINDIR)/natommctl $(DESTDIR)$(MAN8DIR)/natommctl.8

# make deb: libapache2-mod-natomm_<version>_<arch>.deb in build/, made by
# dpkg-buildpackage in a copy of the tree (build/deb/), so the checkout's
# own build is left alone. make deb-test installs it into this machine's
# /etc/apache2 and takes it out again (tests/deb/test_deb.py; slow, root).
deb:
	@rm -rf build/deb && mkdir -p build/deb/src
	git ls-files -z --cached --others --exclude-standard | \
	    xargs -0 -I{} sh -c 'test -f "{}" && mkdir -p "build/deb/src/$$(dirname "{}")" && cp -p "{}" "build/deb/src/{}"'
	cd build/deb/src && dpkg-buildpackage -b -us -uc > ../build.log 2>&1 || { tail -n 40 ../build.log; exit 1; }
	cp build/deb/libapache2-mod-natomm_*.deb build/
	@ls build/libapache2-mod-natomm_*.deb

deb-test: deb
	$(PYTHON) -m pytest -q tests/deb

run: deps all
	@bash scripts/dev-server

unit:
	@$(MAKE) -s -C tests/unit run

# cppcheck, then the layout's rules (scripts/check-layout): core/ built
# without httpd's headers, a unit test per core file, no call upwards
lint:
	cppcheck --error-exitcode=1 --enable=warning,style,performance,portability \
	    --inline-suppr --quiet -I include --suppress=missingIncludeSystem \
	    src mod_natomm.c tools
	@sh scripts/check-layout

integration: deps all
	$(PYTHON) -m pytest -q tests/integration
	NATOMM_DB=pgsql $(PYTHON) -m pytest -q tests/integration

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

browser: deps all node_modules/.package-lock.json
	$(PYTHON) -m pytest -q tests/browser

# the demo site: htdocs/ assembled into build/htdocs/ (see htdocs/README.md)
.PHONY: pages
pages:
	@$(PYTHON) scripts/build-pages
run browser test: pages

test: deps all node_modules/.package-lock.json
	@$(MAKE) -s unit
	@$(MAKE) -s lint
	$(PYTHON) -m pytest -q tests/integration
	NATOMM_DB=pgsql $(PYTHON) -m pytest -q tests/integration
	$(PYTHON) -m pytest -q tests/browser

fuzz: deps
	$(MAKE) -C tests/fuzz run

bench: deps all
	$(PYTHON) tests/bench/bench.py

clean:
	rm -rf .libs *.la *.lo *.slo *.o build
	find src -name '*.lo' -o -name '*.slo' -o -name '*.o' -o -name .libs | xargs rm -rf
	@$(MAKE) -s -C tests/unit clean
	@$(MAKE) -s -C tests/fuzz clean
	rm -rf tests/output

# the module under AddressSanitizer + UBSan, built apart (build/asan/, from a
# copy of the sources: apxs writes objects beside them) with clang, whose one
# runtime honours log_path for both; the integration suite against it in
# Debian's apache2 with that runtime preloaded (scripts/test-asan)
ASAN_CC     = clang
# stddef.h first: else APR_OFFSETOF is APR's null-pointer fallback, which
# UBSan reports in every ring walk (a property of the headers, not the code)
ASAN_CFLAGS = -fsanitize=address -fsanitize=undefined -fno-omit-frame-pointer -g -O1 \
              -include stddef.h
.PHONY: test-asan
build/asan/mod_natomm.so: $(SRC) $(HDR)
	@rm -rf build/asan/tree && mkdir -p build/asan/tree/build
	@cp -r mod_natomm.c src include build/asan/tree/ && cp build/templates.c build/asan/tree/build/
	@echo "apxs -c (AddressSanitizer + UBSan; log: build/asan/apxs.log)"
	@cd build/asan/tree && $(APXS) -S CC=$(ASAN_CC) -c -o mod_natomm.la -I include \
	    $(addprefix -Wc$(comma),$(filter-out -Werror,$(WARN)) $(ASAN_CFLAGS)) \
	    -Wc,-DNATOMM_TEMPLATE_DIR=\\\"$(PREFIX_SHARE)/mail\\\" $(SRC) $(LIBS) \
	    > ../apxs.log 2>&1 || { cat ../apxs.log; exit 1; }
	@cp build/asan/tree/.libs/mod_natomm.so $@
test-asan: deps all build/asan/mod_natomm.so
	@sh scripts/test-asan
