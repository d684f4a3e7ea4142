# mod_natomm — see README.md. `make test` and `make run` install what is missing.
APXS       ?= apxs
PYTHON     ?= /usr/bin/python3
PREFIX_SHARE ?= /usr/share/mod_natomm
comma      := ,
WARN       = -Wall -Wextra -Werror
SRC        = mod_natomm.c $(sort $(wildcard src/*.c)) build/templates.c
HDR        = $(wildcard include/*.h)
LIBS       = -largon2 -lcrypto -lcurl
MODULE     = .libs/mod_natomm.so

.PHONY: all install run test unit integration browser bench fuzz clean deps lint

all: $(MODULE)

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

install: $(MODULE)
	$(APXS) -i -n natomm mod_natomm.la
	install -d $(DESTDIR)$(PREFIX_SHARE)/mail/en $(DESTDIR)$(PREFIX_SHARE)/mail/fr
	install -m 0644 conf/mail/en/*.txt $(DESTDIR)$(PREFIX_SHARE)/mail/en/
	install -m 0644 conf/mail/fr/*.txt $(DESTDIR)$(PREFIX_SHARE)/mail/fr/
	install -m 0644 conf/natomm.load conf/natomm.conf /etc/apache2/mods-available/

run: deps all
	@bash scripts/dev-server

unit:
	@$(MAKE) -s -C tests/unit run

lint:
	cppcheck --error-exitcode=1 --enable=warning,style,performance,portability \
	    --inline-suppr --quiet -I include --suppress=missingIncludeSystem \
	    src mod_natomm.c

integration: deps all
	$(PYTHON) -m pytest -q tests/integration
	NATOMM_DB=pgsql $(PYTHON) -m pytest -q tests/integration

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

browser: deps all node_modules/.package-lock.json
	$(PYTHON) -m pytest -q tests/browser

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
	rm -rf .libs *.la *.lo *.slo *.o src/*.lo src/*.slo src/*.o src/.libs build
	@$(MAKE) -s -C tests/unit clean
	@$(MAKE) -s -C tests/fuzz clean
	rm -rf tests/output
