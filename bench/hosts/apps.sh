#!/bin/bash
# The two app hosts, each its own directory tree (spool, static, keys), as docs/deploy.md says.
set -euo pipefail
H=${HOSTS_DIR:-/tmp/opiniondesk-hosts}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PW=$(cat "$H/db.pw")
SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')
mkdir -p "$H/checkpoints" && chmod 700 "$H/checkpoints"
for n in 1 2; do
  d=$H/app$n; mkdir -p "$d/media" "$d/static" "$d/backups" && chmod 0700 "$d" "$d/media" "$d/static" "$d/backups"
  cat > "$d/env" <<ENV
SECRET_KEY=$SECRET
DEBUG=false
DEMO_MODE=true
ALLOWED_HOSTS=10.77.0.1
CSRF_TRUSTED_ORIGINS=https://10.77.0.1
SITE_URL=https://10.77.0.1
TRUSTED_PROXY=true
DATABASE_URL=postgres://opiniondesk:$PW@10.77.0.20:5432/opiniondesk
DATABASE_POOL=true
REDIS_URL=redis://opiniondesk:redis-$PW@10.77.0.21:6379/0
STORAGE_BUCKET=opiniondesk-documents
STORAGE_ENDPOINT_URL=http://10.77.0.22:8333
STORAGE_REGION=us-east-1
STORAGE_ACCESS_KEY=odkey
STORAGE_SECRET_KEY=s3-$PW
MEDIA_ROOT=$d/media
STATIC_ROOT=$d/static
BACKUP_DIR=$d/backups
AUDIT_MAC_KEY_FILE=$d/keys/audit-mac.key
AUDIT_SIGNING_KEY_FILE=$d/keys/audit-signing.key
AUDIT_CHECKPOINT_DIR=$H/checkpoints
STATIC_COMPRESS=false
LOG_FORMAT=json
ENV
  cat > "$d/run" <<RUN
#!/bin/bash
cd $ROOT; set -a; . $d/env; set +a; export PYTHONDONTWRITEBYTECODE=
exec ip netns exec od-app$n "\$@"
RUN
  chmod +x "$d/run"
done
M=".venv/bin/python manage.py"
# The bucket (the storage administrator's job), from app1.
"$H/app1/run" .venv/bin/python -c "
import boto3, os, time
c = boto3.client('s3', endpoint_url=os.environ['STORAGE_ENDPOINT_URL'], aws_access_key_id=os.environ['STORAGE_ACCESS_KEY'], aws_secret_access_key=os.environ['STORAGE_SECRET_KEY'], region_name='us-east-1')
for i in range(100):
    try:
        c.create_bucket(Bucket='opiniondesk-documents'); break
    except Exception as e:
        time.sleep(0.5)
print('bucket', c.head_bucket(Bucket='opiniondesk-documents')['ResponseMetadata']['HTTPStatusCode'])
"
# app1: once per installation, then its start unit.
# shellcheck disable=SC2086  # $M and $c are words: the command and its options
for c in "create_audit_keys" "migrate --no-input -v0" "collectstatic --no-input -v0" "load_demo -v0" "seal_audit_log --schedule" "create_audit_keys --check-only" "sweep_uploads --schedule" "reconcile_tasks"; do
  echo "app1: $c"; "$H/app1/run" $M $c 2>&1 | { grep -v pikepdf || true; } | tail -n 2
done
# app2: copied keys, its own static files, its start unit.
mkdir -p "$H/app2/keys" && chmod 0700 "$H/app2/keys" && cp "$H"/app1/keys/* "$H/app2/keys/" && chmod 0600 "$H"/app2/keys/*
# shellcheck disable=SC2086  # as above
for c in "collectstatic --no-input -v0" "create_audit_keys --check-only" "sweep_uploads --schedule" "reconcile_tasks"; do
  echo "app2: $c"; "$H/app2/run" $M $c 2>&1 | { grep -v pikepdf || true; } | tail -n 2
done
for n in 1 2; do
  d=$H/app$n
  (setsid "$d/run" .venv/bin/uvicorn config.asgi:application --host "10.77.0.1$n" --port 8001 --loop uvloop --http httptools --ws websockets-sansio --proxy-headers --forwarded-allow-ips 10.77.0.1 --no-access-log --lifespan off > "$d/web.log" 2>&1 < /dev/null &)
  (setsid "$d/run" .venv/bin/python manage.py db_worker --queue-name '*' --worker-id "app$n-1" > "$d/worker.log" 2>&1 < /dev/null &)
done
echo apps starting
