set -e
/opt/pg/bin/initdb -D /tmp/data -U postgres --auth=trust --no-locale -E UTF8 >/tmp/initdb.log
# Test only: the job reaches the service over its network, without a password.
printf 'host all all 0.0.0.0/0 trust\nhost all all ::/0 trust\n' >> /tmp/data/pg_hba.conf
/opt/pg/bin/pg_ctl -D /tmp/data -l /tmp/pg.log -w -o "-c listen_addresses=* -k /tmp" start
touch /tmp/ready
echo "postgres is ready"
exec tail -f /tmp/pg.log
