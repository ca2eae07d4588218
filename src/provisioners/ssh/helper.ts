// The program Airlock runs on an SSH host for every call. OpenSSH hands its remote command to the
// login shell as one string, so that string is a CONSTANT (BOOTSTRAP): it reads this Perl source,
// length-prefixed, from stdin and runs it; the request follows on stdin as length-prefixed fields
// (protocol.ts). Nothing a job chooses is ever part of a shell string or of the Perl source.
// Sending the source with every call (a few KB) leaves nothing on the host a job could modify to
// reach a later job's calls, and the host needs no install step — only `perl` (perl-base, Essential
// on Debian).
//
// Replies go to stdout as frames: one type byte, a 32-bit big-endian length, the payload.
//   o/e  job stdout / stderr   p  pid of the exec's process group   x  "<code> <signal>" (exec end)
//   d    file data   r  done (payload: result)   n  file absent   F  "escape|large|fail <message>"
// Every op works inside <base>/<id>, the machine's folder, entered by chdir and checked by
// (dev, inode) at every level, never through a symlink.

/** The remote command: constant text, the same for every call. */
export const BOOTSTRAP =
  'exec perl -e \'$n="";sysread(STDIN,$n,8-length $n,length $n)>0 or exit 254 while length $n<8;' +
  '$l=hex $n;$s="";sysread(STDIN,$s,$l-length $s,length $s)>0 or exit 254 while length $s<$l;' +
  "eval $s;print STDERR $@;exit 254'";

/** Helper exit codes the client tells apart from ssh's own 255. */
export const HELPER_FAILED = 254;

export const HELPER_SOURCE = String.raw`
# Modules are loaded only by the ops that need them: perl starts in ~2 ms, POSIX alone costs ~5.
use strict;
$SIG{PIPE} = 'IGNORE';
binmode STDOUT; binmode STDIN;
my @SUB = qw(workspace temp actions home tool-cache .airlock .airlock/procs);

sub rd { my $n = shift; my $b = '';
  while (length($b) < $n) { my $r = sysread(STDIN, $b, $n - length($b), length($b));
    die "short request\n" unless $r; } $b }
sub field { rd(hex rd(8)) }
sub out { my $d = shift; while (length $d) { my $w = syswrite(STDOUT, $d);
  if (!defined $w) { next if $!{EINTR}; die "output closed\n"; } substr($d, 0, $w) = ''; } }
sub frame { out($_[0] . pack('N', length $_[1]) . $_[1]) }
sub fail { frame('F', $_[0] . ' ' . $_[1]); exit 0 }

sub base_dir { my $b = shift;
  $b = "$ENV{HOME}/$b" unless $b =~ m{^/};
  my $p = '';
  for my $c (grep { length } split m{/}, $b) { $p .= "/$c"; mkdir($p, 0700) unless -e $p; }
  my @st = lstat($b) or fail('fail', "cannot create $b: $!");
  fail('fail', "$b is not a folder of this user closed to others (a symlink, or group/world-writable)") if -l _ || !-d _ || $st[4] != $< || ($st[2] & 022);
  chdir($b) or fail('fail', "cannot enter $b: $!");
  readlink('/proc/self/cwd') // do { require Cwd; Cwd::getcwd() } }

sub same { my @a = @{$_[0]}; my @b = stat('.'); $a[0] == $b[0] && $a[1] == $b[1] }
sub enter { my ($base, $id) = @_;
  fail('fail', 'bad machine id') unless $id =~ /^[a-z0-9][a-z0-9-]{0,62}$/;
  my $b = base_dir($base);
  my @st = lstat($id) or fail('fail', "machine $id is gone");
  fail('escape', "machine $id is not a folder") if -l _ || !-d _;
  chdir($id) && same(\@st) or fail('escape', "machine $id moved");
  our $BASE = $b; "$b/$id" }

# Walks to the parent of an inner path from the machine folder (cwd); returns the last name.
sub walk { my ($root, $p, $create) = @_;
  fail('escape', "$p: outside the machine's folder") unless index($p, "$root/") == 0;
  my @c = grep { length && $_ ne '.' } split m{/}, substr($p, length($root) + 1);
  fail('escape', "$p: '..' is not allowed") if grep { $_ eq '..' } @c;
  my $last = pop @c; fail('escape', "$p: is the machine's folder") unless defined $last;
  for my $c (@c) {
    my @st = lstat($c);
    if (!@st) { return undef unless $create; mkdir($c, 0755); @st = lstat($c) or fail('fail', "$p: $!"); }
    fail('escape', "$p: $c is a symbolic link") if -l _;
    fail('escape', "$p: $c is not a folder") unless -d _;
    chdir($c) && same(\@st) or fail('escape', "$p: $c moved");
  }
  $last }

my $op = field(); my $base = field(); my $id = field();
if ($op eq 'mk') {
  my $b = base_dir($base);
  fail('fail', 'bad machine id') unless $id =~ /^[a-z0-9][a-z0-9-]{0,62}$/;
  mkdir($id, 0700) or fail('fail', "cannot create $b/$id: $!");
  for (@SUB) { mkdir("$id/$_", $_ =~ /^\./ ? 0700 : 0755) or fail('fail', "cannot create $b/$id/$_: $!"); }
  frame('r', "$b/$id"); exit 0;
}
my $root = enter($base, $id);
if ($op eq 'w' || $op eq 'r') { require Fcntl; }
sub F { no strict 'refs'; &{"Fcntl::$_[0]"}() }
if ($op eq 'w') {
  my $p = field(); my $mode = oct(field());
  my $name = walk($root, $p, 1);
  fail('escape', "$p: is a folder") if -d $name && !-l $name;
  sysopen(my $fh, $name, F('O_WRONLY') | F('O_CREAT') | F('O_TRUNC') | F('O_NOFOLLOW') | F('O_NONBLOCK'), $mode)
    or fail($!{ELOOP} ? 'escape' : 'fail', "$p: " . ($!{ELOOP} ? 'is a symbolic link' : $!));
  fail('escape', "$p: not a regular file") unless -f $fh;
  chmod($mode, $fh);
  my $buf;
  while (1) { my $r = sysread(STDIN, $buf, 65536); fail('fail', "$p: $!") unless defined $r; last unless $r;
    while (length $buf) { my $w = syswrite($fh, $buf); fail('fail', "$p: $!") unless defined $w; substr($buf, 0, $w) = ''; } }
  close($fh) or fail('fail', "$p: $!");
  frame('r', ''); exit 0;
}
if ($op eq 'r') {
  my $p = field(); my $max = field();
  my $name = walk($root, $p, 0);
  if (!defined $name) { frame('n', ''); exit 0; }
  if (!sysopen(my $fh, $name, F('O_RDONLY') | F('O_NOFOLLOW') | F('O_NONBLOCK'))) {
    if ($!{ENOENT}) { frame('n', ''); exit 0; }
    fail($!{ELOOP} ? 'escape' : 'fail', "$p: " . ($!{ELOOP} ? 'is a symbolic link' : $!));
  } else {
    fail('escape', "$p: not a regular file") unless -f $fh;
    my $size = -s $fh;
    fail('large', "$p: $size bytes, more than $max") if length $max && $size > $max;
    my $buf;
    while (1) { my $r = sysread($fh, $buf, 65536); fail('fail', "$p: $!") unless defined $r; last unless $r; frame('d', $buf); }
    frame('r', ''); exit 0;
  }
}
if ($op eq 'c') {
  my $p = field();
  my $name = walk($root, $p, 1);
  require File::Path; File::Path::remove_tree($name) if -e $name || -l $name;
  mkdir($name, 0755) or fail('fail', "$p: $!");
  my @st = lstat($name); chdir($name) && same(\@st) or fail('escape', "$p moved");
  system('tar', '--no-same-owner', '--no-overwrite-dir', '-xf', '-') == 0 or fail('fail', "$p: tar failed ($?)");
  frame('r', ''); exit 0;
}
if ($op eq 'x') {
  my $cwd = field(); my @argv = map { field() } 1 .. field(); my %env = map { (field(), field()) } 1 .. field();
  pipe(my $or, my $ow) or fail('fail', "pipe: $!"); pipe(my $er, my $ew) or fail('fail', "pipe: $!");
  pipe(my $cr, my $cw) or fail('fail', "pipe: $!");
  my $pid = fork(); fail('fail', "fork: $!") unless defined $pid;
  if (!$pid) {
    # Its own process group (kill() and destroy() kill it whole), in this helper's session.
    setpgrp(0, 0); open(STDIN, '<', '/dev/null'); open(STDOUT, '>&', $ow); open(STDERR, '>&', $ew);
    close($_) for ($or, $er, $cr, $cw);
    %ENV = %env;
    chdir($cwd) or do { print STDERR "airlock: cannot enter $cwd: $!\n"; exit 127 };
    exec { $argv[0] } @argv;
    print STDERR "$argv[0]: $!\n"; exit 127;
  }
  close($_) for ($ow, $ew);
  for ($pid, $$) { open(my $t, '>', ".airlock/procs/$_"); }
  frame('p', $pid);
  $SIG{CHLD} = sub { syswrite($cw, 'c') };
  # Ends when the process has exited and its pipes closed, or once they stay quiet for 250 ms after
  # its exit (a background process holds them; at most ~2 s). EOF on stdin (the client's kill, or
  # a lost connection) kills the process group.
  my %h = (o => $or, e => $er, i => \*STDIN, c => $cr);
  my ($status, $until);
  while (1) {
    if (!defined $status && waitpid($pid, 1) == $pid) { $status = $?; $until = time + 2; }
    delete $h{i} if defined $status;
    last if defined $status && (!exists $h{o} && !exists $h{e} || time > $until);
    my $rin = ''; vec($rin, fileno($_), 1) = 1 for values %h;
    my $n = select(my $rout = $rin, undef, undef, defined $status ? 0.25 : 5);
    next if $n < 0;
    last if $n == 0 && defined $status;
    for my $k (sort keys %h) {
      my $fh = $h{$k}; next unless vec($rout, fileno($fh), 1);
      my $r = sysread($fh, my $buf, 65536);
      if ($k eq 'c') { next; }
      if ($k eq 'i') { if (!$r) { kill('KILL', -$pid); delete $h{i}; } next; }
      if (!$r) { delete $h{$k}; next; }
      frame($k, $buf);
    }
  }
  frame('x', ($status >> 8) . ' ' . ($status & 127)); exit 0;
}
if ($op eq 'd') {
  my %mine; opendir(my $d, '.airlock/procs'); $mine{$_} = 1 for grep { /^\d+$/ } readdir($d); closedir($d);
  for my $round (1 .. 20) {
    kill('KILL', -$_) for keys %mine;
    my $left = 0;
    opendir(my $pd, '/proc') or last;
    for my $p (grep { /^\d+$/ && $_ != $$ } readdir($pd)) {
      my @st = stat("/proc/$p") or next; next unless $st[4] == $<;
      open(my $s, '<', "/proc/$p/stat") or next; my $line = <$s>; close($s); next unless defined $line;
      $line =~ s/^.*\)\s+//; my @f = split /\s+/, $line;
      my $cwd = readlink("/proc/$p/cwd") // '';
      if ($mine{$f[2]} || $mine{$f[3]} || index("$cwd/", "$root/") == 0) { kill('KILL', $p); $left++; }
    }
    closedir($pd);
    last unless $left;
  }
  chdir($main::BASE) or fail('fail', "cannot enter $main::BASE: $!");
  require File::Path; File::Path::remove_tree($id, { safe => 0 });
  fail('fail', "cannot remove $root") if -e $id || -l $id;
  frame('r', ''); exit 0;
}
fail('fail', "unknown op $op");
`;
