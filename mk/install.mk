# make install / uninstall / group. PREFIX and DESTDIR apply to every path:
#   $(PREFIX)/libexec/jail-ai-ebpf-loader           0755  the loader
#   /etc/sudoers.d/jail-ai-ebpf-loader              0440  the sudo rule
#   $(PREFIX)/share/man/man8/jail-ai-ebpf-loader.8  0644  the manual
# The sudo rule names the loader by the path sudo will see, $(PREFIX)/libexec/...
# (never DESTDIR). It is rendered to a temporary file and checked, before
# anything is created, by every sudo implementation on the machine
# (scripts/check-sudo-rule: classic sudo's visudo, sudo-rs's visudo or a parse
# run of sudo-rs); then it is copied next to its final place under a name sudo
# ignores (it contains a "."), checked again, and renamed into place, last, so
# an install never leaves sudo or sudo-rs with a configuration it complains
# about, or a rule for a program that is not there yet. Existing directories
# keep their modes. Uninstall removes these files (the rule first) and nothing else;
# directories and the group stay.
# The group jail-ai is not created by install: `make group` does it on request.
.PHONY: install uninstall group

JAIL_AI_GROUP := jail-ai
DEFAULT_COMMAND := /usr/local/libexec/$(BIN)
INSTALL_COMMAND = $(PREFIX)/libexec/$(BIN)
INSTALL_BIN = $(DESTDIR)$(PREFIX)/libexec/$(BIN)
INSTALL_MAN = $(DESTDIR)$(PREFIX)/share/man/man8/$(BIN).8
INSTALL_SUDOERS_DIR = $(DESTDIR)/etc/sudoers.d
INSTALL_SUDOERS = $(INSTALL_SUDOERS_DIR)/$(BIN)
INSTALL_SUDOERS_NEW = $(INSTALL_SUDOERS_DIR)/$(BIN).new
CHECK_SUDO_RULE := ./scripts/check-sudo-rule
# PREFIX ends up in the sudo rule, where a space, "#", "," or ":" would change
# its meaning and still parse; so only these characters are accepted. The
# checks then refuse what remains wrong, such as a relative PREFIX.
PREFIX_CHARACTERS := abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+/-

# As root, files are owned by root and the checks also require that; a
# non-root staging install (DESTDIR) keeps the installer's owner.
IS_ROOT = $(filter 0,$(shell id -u))
ROOT_OWNED = $(if $(IS_ROOT),-o 0 -g 0)

install: $(BIN) sudoers.d/$(BIN) $(BIN).8 $(CHECK_SUDO_RULE)
	$(Q)set -e; umask 022; \
	case '$(PREFIX)' in \
	*[!$(PREFIX_CHARACTERS)]*) printf "install: PREFIX may hold only letters, digits and . _ + / - (it becomes part of a sudo rule): '%s'\n" '$(PREFIX)' >&2; exit 1 ;; \
	esac; \
	rule=$$(mktemp); new='$(INSTALL_SUDOERS_NEW)'; \
	trap 'rm -f "$$rule" "$$new"' EXIT; trap 'exit 1' HUP INT TERM; \
	sed 's|$(DEFAULT_COMMAND)|$(INSTALL_COMMAND)|g' sudoers.d/$(BIN) >"$$rule"; \
	chmod 0440 "$$rule"; \
	if ! $(CHECK_SUDO_RULE) "$$rule"; then \
		printf "install: the sudo rule for PREFIX '%s' is refused (above); nothing was installed\n" '$(PREFIX)' >&2; exit 1; \
	fi; \
	for dir in '$(INSTALL_SUDOERS_DIR)' '$(DESTDIR)$(PREFIX)/libexec' \
		'$(DESTDIR)$(PREFIX)/share/man/man8'; do \
		[ -d "$$dir" ] || install -d -m 0755 "$$dir"; \
	done; \
	install $(ROOT_OWNED) -m 0755 $(BIN) '$(INSTALL_BIN)'; \
	install $(ROOT_OWNED) -m 0644 $(BIN).8 '$(INSTALL_MAN)'; \
	install $(ROOT_OWNED) -m 0440 "$$rule" "$$new"; \
	$(CHECK_SUDO_RULE) "$$new" >/dev/null; \
	mv -f "$$new" '$(INSTALL_SUDOERS)'; \
	echo "installed $(INSTALL_BIN), $(INSTALL_SUDOERS), $(INSTALL_MAN)"; \
	if [ -z '$(DESTDIR)' ] && ! getent group $(JAIL_AI_GROUP) >/dev/null; then \
		echo "note: group $(JAIL_AI_GROUP) does not exist, so nobody may run the loader yet;"; \
		echo "      create it with 'make group' (groupadd --system $(JAIL_AI_GROUP)), then"; \
		echo "      add each caller: usermod -aG $(JAIL_AI_GROUP) USER"; \
	fi

uninstall:
	$(Q)rm -f '$(INSTALL_SUDOERS)' '$(INSTALL_SUDOERS_NEW)' '$(INSTALL_BIN)' '$(INSTALL_MAN)'
	$(Q)echo "removed $(INSTALL_SUDOERS), $(INSTALL_BIN), $(INSTALL_MAN)"

group:
	$(Q)if getent group $(JAIL_AI_GROUP) >/dev/null; then \
		echo "group $(JAIL_AI_GROUP) exists"; \
	else \
		groupadd --system $(JAIL_AI_GROUP) && echo "created group $(JAIL_AI_GROUP)"; \
	fi
	$(Q)echo "add each caller with: usermod -aG $(JAIL_AI_GROUP) USER (effective at their next login)"
