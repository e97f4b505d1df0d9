# make deb (issue 19): the Debian package, from debian/, built with
# dpkg-buildpackage and debhelper into build/$(BIN)_VERSION_ARCH.deb
# (VERSION from debian/changelog; debian/README.Debian says what it holds).
#
# dpkg-buildpackage cleans the tree it builds in and writes its products to
# the directory above it. So it builds a copy: the files of this working tree
# that git sees (tracked ones, and untracked ones that .gitignore does not
# exclude, so no build products), as they are now, copied to
# $(DEB_SRC)/$(BIN)-VERSION. The products stay in $(DEB_SRC) (the .dsc, the
# native source tarball, the .buildinfo, the .changes, the -dbgsym package
# and the .deb), so the .changes is whole for lintian or an upload; the .deb
# is also copied to $(DEB_DIR). Unsigned (-us -uc): signing is the
# uploader's. Needs a git checkout and debian/control's Build-Depends
# (dpkg-buildpackage checks them first; `make deps` installs them).
#   DEB_SRC  where the copy is built (default build/deb-src)
#   DEB_DIR  where the .deb is copied (default build)
.PHONY: deb

DEB_SRC ?= $(BUILD)/deb-src
DEB_DIR ?= $(BUILD)

deb:
	$(Q)set -e; \
	git rev-parse --is-inside-work-tree >/dev/null 2>&1 || \
		{ echo "make deb: needs a git checkout (it packages the files git sees)" >&2; exit 1; }; \
	version=$$(dpkg-parsechangelog -l debian/changelog -S Version); \
	arch=$$(dpkg-architecture -q DEB_HOST_ARCH); \
	src='$(DEB_SRC)'; dir="$$src/$(BIN)-$$version"; \
	rm -rf "$$dir"; \
	rm -f "$$src"/$(BIN)_* "$$src"/$(BIN)-dbgsym_*; \
	mkdir -p "$$dir" '$(DEB_DIR)'; \
	git ls-files -z --cached --others --exclude-standard --deduplicate | \
		xargs -0 -r sh -c 'for f; do if [ -e "$$f" ] || [ -h "$$f" ]; then printf "%s\0" "$$f"; fi; done' sh | \
		tar -c --null --no-recursion -T - -f - | tar -x -f - -C "$$dir"; \
	(cd "$$dir" && dpkg-buildpackage -us -uc); \
	cp -f "$$src/$(BIN)_$${version}_$$arch.deb" '$(DEB_DIR)'/; \
	echo "built $(DEB_DIR)/$(BIN)_$${version}_$$arch.deb"
