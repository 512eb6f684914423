# Completes a command line in a real interactive zsh (through zsh/zpty) and prints
# each candidate the completion system offers as <<candidate>>. Used by
# test/completion-man.test.ts to run `diskkit completion zsh` as zsh runs it.
#   usage: zsh zsh-capture.zsh DIR_HOLDING__diskkit 'diskkit ls --'
zmodload zsh/zpty
zpty z zsh -f -i
init=$(mktemp)
cat > $init <<INIT
PROMPT=
fpath=($1 \$fpath)
autoload -U compinit
compinit -u -D
bindkey '^I' complete-word
null-line () { echo -E - \$'\0' }
compprefuncs=( null-line )
comppostfuncs=( null-line exit )
zstyle ':completion:*' list-grouped false
zstyle ':completion:*' insert-tab false
# Every candidate added is printed instead of being listed (calls that only fetch stay builtin).
compadd () {
  if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "\$@"; return \$?; fi
  typeset -a __hits
  builtin compadd -A __hits "\$@"
  local h
  for h in \$__hits; do echo -E - "<<\$h>>"; done
}
echo ok
INIT
zpty -w z "source $init"
repeat 10; do zpty -r z line; [[ $line == ok* ]] && break; done
zpty -w z "$2"$'\t'
while zpty -r z line; do print -r -- "$line"; done | grep -ao '<<[^>]*>>' | sort -u
zpty -d z
rm -f $init
