import type { Generated } from 'kysely';

/*
 * One schema for SQLite and PostgreSQL. Timestamps are ISO 8601 UTC strings ("2026-12-04T19:50:00.000Z"),
 * which sort and compare correctly as text on both, and booleans are 0/1 integers, which both store alike.
 */

export interface UsersTable {
  id: string;
  /** Lower-cased at the edge; unique. */
  email: string;
  password_hash: string;
  is_admin: number;
  created_at: string;
  last_login_at: string | null;
}

export interface SubscriptionsTable {
  user_id: string;
  active: number;
  /** Access ends at this instant (exclusive); null means no end date. */
  ends_at: string | null;
  updated_at: string;
}

export interface VideosTable {
  id: string;
  title: string;
  description: string;
  storage_key: string;
  content_type: string;
  size_bytes: number;
  duration_seconds: number | null;
  poster_key: string | null;
  /** Storage key of the HLS master playlist, set once every rendition is stored; null until then. */
  hls_master_key: string | null;
  published: number;
  created_at: string;
  updated_at: string;
}

export interface SessionsTable {
  sid: string;
  data: string;
  user_id: string | null;
  expires_at: string;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: string;
  actor_id: string | null;
  actor_email: string;
  action: string;
  target_type: string;
  target_id: string;
  before_json: string | null;
  after_json: string | null;
  /** The target's email or title when the entry was written, so the log stays readable after a deletion. */
  target_label: string | null;
}

/** A direct upload to storage that the browser has started but the app has not registered as a video yet. */
export interface PendingUploadsTable {
  id: string;
  storage_key: string;
  /** The S3 multipart upload id; null for a single presigned PUT. */
  multipart_upload_id: string | null;
  title: string;
  content_type: string;
  size_bytes: number;
  created_by: string;
  created_at: string;
}

/** One rate-limit window: `hits` requests under `key` until `reset_at`. */
export interface RateLimitHitsTable {
  key: string;
  hits: number;
  reset_at: string;
}

export type TranscodeJobStatus = 'queued' | 'running' | 'done' | 'failed';

/** One request to turn a video into HLS renditions; the worker that runs it holds it through locked_by. */
export interface TranscodeJobsTable {
  id: string;
  video_id: string;
  status: TranscodeJobStatus;
  /** Runs started so far, the current one included. */
  attempts: number;
  /** 0..100 */
  progress: number;
  /** A short summary for admins of why the last run failed; ffmpeg's own output goes to the log. */
  error: string | null;
  locked_by: string | null;
  locked_at: string | null;
  heartbeat_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface Database {
  users: UsersTable;
  subscriptions: SubscriptionsTable;
  videos: VideosTable;
  sessions: SessionsTable;
  audit_log: AuditLogTable;
  pending_uploads: PendingUploadsTable;
  rate_limit_hits: RateLimitHitsTable;
  transcode_jobs: TranscodeJobsTable;
}
