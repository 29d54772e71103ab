/**
 * Where accounts live: tables of the example's own (`example_` prefix) in the engine's database,
 * through the store's Kysely instance, so SQLite runs them under the store's file lock and several
 * instances on one PostgreSQL share users, refresh tokens and the JWT secret.
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';

/** A user as stored. */
export interface UserRow {
  id: string;
  email: string;
  passwordHash: string;
  roles: string[];
  createdAt: string;
}

/** A refresh token as stored (only its hash). */
export interface RefreshRow {
  tokenHash: string;
  familyId: string;
  userId: string;
  expiresAt: string;
  usedAt: string | null;
  revokedAt: string | null;
}

/** The account store: users, refresh tokens and settings. */
export interface AccountStore {
  /** Creates the tables when missing. */
  migrate(): Promise<void>;
  /** Inserts a user; `false` when the email is taken. */
  insertUser(user: UserRow): Promise<boolean>;
  /** Inserts or replaces a user by email (the seeded admin). */
  upsertUser(user: UserRow): Promise<void>;
  findUserByEmail(email: string): Promise<UserRow | undefined>;
  findUserById(id: string): Promise<UserRow | undefined>;
  listUsers(): Promise<UserRow[]>;
  insertRefresh(row: RefreshRow): Promise<void>;
  findRefresh(tokenHash: string): Promise<RefreshRow | undefined>;
  /** Marks a token used, only when it was not: `false` when another call used it first. */
  markRefreshUsed(tokenHash: string, at: string): Promise<boolean>;
  /** Revokes every token of a family. */
  revokeFamily(familyId: string, at: string): Promise<void>;
  /** The setting's value, inserting `value` first when there is none (first writer wins). */
  claimSetting(key: string, value: string): Promise<string>;
}

/** Which database the store speaks to. */
export interface SqlAccountStoreOptions {
  // biome-ignore lint/suspicious/noExplicitAny: the engine's Kysely instance, used with raw SQL only.
  db: Kysely<any>;
  dialect: 'sqlite' | 'postgres';
  /** PostgreSQL schema of the tables. */
  schema?: string;
}

type Row = Record<string, unknown>;

function toUser(r: Row): UserRow {
  return {
    id: String(r.id),
    email: String(r.email),
    passwordHash: String(r.password_hash),
    roles: JSON.parse(String(r.roles)) as string[],
    createdAt: String(r.created_at),
  };
}

function toRefresh(r: Row): RefreshRow {
  return {
    tokenHash: String(r.token_hash),
    familyId: String(r.family_id),
    userId: String(r.user_id),
    expiresAt: String(r.expires_at),
    usedAt: r.used_at == null ? null : String(r.used_at),
    revokedAt: r.revoked_at == null ? null : String(r.revoked_at),
  };
}

/** The account store on the engine's SQL database (SQLite or PostgreSQL, one code path). */
export function createSqlAccountStore(options: SqlAccountStoreOptions): AccountStore {
  const { db, dialect, schema } = options;
  const table = (name: string) => (dialect === 'postgres' && schema ? sql.id(schema, name) : sql.id(name));
  const users = table('example_users');
  const refresh = table('example_refresh_tokens');
  const settings = table('example_settings');
  const rows = async (query: RawBuilder<unknown>) => (await query.execute(db)).rows as Row[];

  const ddl = [
    sql`create table if not exists ${users} (id text primary key, email text not null unique,
      password_hash text not null, roles text not null, created_at text not null)`,
    sql`create table if not exists ${refresh} (token_hash text primary key, family_id text not null,
      user_id text not null, expires_at text not null, used_at text, revoked_at text, created_at text not null)`,
    sql`create index if not exists example_refresh_family on ${refresh} (family_id)`,
    sql`create table if not exists ${settings} (key text primary key, value text not null)`,
  ];

  return {
    async migrate() {
      for (const statement of ddl) {
        try {
          await statement.execute(db);
        } catch (error) {
          // Another instance creating the same table at the same instant (PostgreSQL: 23505, 42P07).
          const code = (error as { code?: unknown }).code;
          if (code !== '23505' && code !== '42P07') throw error;
        }
      }
    },
    async insertUser(u) {
      const inserted = await rows(sql`insert into ${users} (id, email, password_hash, roles, created_at)
        values (${u.id}, ${u.email}, ${u.passwordHash}, ${JSON.stringify(u.roles)}, ${u.createdAt})
        on conflict do nothing returning id`);
      return inserted.length === 1;
    },
    async upsertUser(u) {
      await sql`insert into ${users} (id, email, password_hash, roles, created_at)
        values (${u.id}, ${u.email}, ${u.passwordHash}, ${JSON.stringify(u.roles)}, ${u.createdAt})
        on conflict (email) do update set password_hash = excluded.password_hash, roles = excluded.roles`.execute(db);
    },
    async findUserByEmail(email) {
      const [r] = await rows(sql`select * from ${users} where email = ${email}`);
      return r && toUser(r);
    },
    async findUserById(id) {
      const [r] = await rows(sql`select * from ${users} where id = ${id}`);
      return r && toUser(r);
    },
    async listUsers() {
      return (await rows(sql`select * from ${users} order by created_at, id`)).map(toUser);
    },
    async insertRefresh(t) {
      await sql`insert into ${refresh} (token_hash, family_id, user_id, expires_at, used_at, revoked_at, created_at)
        values (${t.tokenHash}, ${t.familyId}, ${t.userId}, ${t.expiresAt}, null, null, ${new Date().toISOString()})`.execute(
        db,
      );
    },
    async findRefresh(tokenHash) {
      const [r] = await rows(sql`select * from ${refresh} where token_hash = ${tokenHash}`);
      return r && toRefresh(r);
    },
    async markRefreshUsed(tokenHash, at) {
      const changed = await rows(sql`update ${refresh} set used_at = ${at}
        where token_hash = ${tokenHash} and used_at is null returning token_hash`);
      return changed.length === 1;
    },
    async revokeFamily(familyId, at) {
      await sql`update ${refresh} set revoked_at = ${at} where family_id = ${familyId} and revoked_at is null`.execute(
        db,
      );
    },
    async claimSetting(key, value) {
      await sql`insert into ${settings} (key, value) values (${key}, ${value}) on conflict do nothing`.execute(db);
      const [r] = await rows(sql`select value from ${settings} where key = ${key}`);
      return String(r?.value);
    },
  };
}
