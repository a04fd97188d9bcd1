// The external identity services the browser tests sign in and sync against, started for real:
// the OpenID provider of the OIDC tests (tests/oidc/provider.mjs, npm `oidc-provider`,
// installed by scripts/ensure_oidc_provider.sh) and a private OpenLDAP `slapd` (Debian
// package, installed by scripts/ensure_slapd.sh) with the same configuration as the Rust
// harness (tests/src/ldap.rs) minus TLS: the browser tests look at the web app, the LDAPS
// paths are covered by tests/tests/directory_sync.rs.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO, freePort } from './harness.mjs';

/** Starts the OpenID provider for a JITEA reached at `jiteaBase`. */
export async function startProvider(jiteaBase) {
  const out = execFileSync(join(REPO, 'scripts/ensure_oidc_provider.sh'), { stdio: ['ignore', 'pipe', 'inherit'] });
  const modules = out.toString().trim().split('\n').pop().trim();
  const port = await freePort();
  const child = spawn('node', [join(REPO, 'tests/oidc/provider.mjs')], {
    env: {
      ...process.env,
      OIDC_PROVIDER_MODULES: modules,
      PORT: String(port),
      REDIRECT_URI: `${jiteaBase}/api/v1/auth/oidc/callback`,
      AUDIENCE: 'urn:jitea:api',
    },
    // Its stderr is development-mode warnings only.
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const issuer = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the OpenID provider did not start within 30 s')), 30_000);
    createInterface({ input: child.stdout }).on('line', (l) => {
      if (l.startsWith('READY ')) {
        clearTimeout(timer);
        resolve(l.slice(6).trim());
      }
    });
    child.on('exit', (c) => reject(new Error(`the OpenID provider exited (${c})`)));
  });
  return {
    issuer,
    /** JITEA settings to sign in through this provider (as tests/src/oidc.rs has them). */
    env: {
      JITEA_PUBLIC_URL: jiteaBase,
      JITEA_OIDC_ISSUER: issuer,
      JITEA_OIDC_CLIENT_ID: 'jitea-web',
      JITEA_OIDC_CLIENT_SECRET: 'jitea-web-secret',
      JITEA_OIDC_CLAIM_EMAIL: 'email',
      JITEA_OIDC_CLAIM_DEPARTMENT: 'department',
      JITEA_OIDC_CLAIM_GROUPS: 'groups',
      JITEA_OIDC_ADMIN_GROUPS: 'jitea-admins',
      JITEA_OIDC_AUDITOR_GROUPS: 'jitea-auditors',
    },
    stop() {
      child.kill('SIGKILL');
    },
  };
}

export const SUFFIX = 'dc=jitea,dc=test';
export const PEOPLE = `ou=people,${SUFFIX}`;
const ROOT_DN = `cn=admin,${SUFFIX}`;
const ROOT_PW = 'admin-secret-pw';
const SYNC_DN = `cn=jitea-sync,${SUFFIX}`;
const SYNC_PW = 'sync-secret-pw';

function configLdif(dir) {
  return `dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: ${dir}/slapd.pid

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif

include: file:///etc/ldap/schema/cosine.ldif

include: file:///etc/ldap/schema/inetorgperson.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: ${SUFFIX}
olcRootDN: ${ROOT_DN}
olcRootPW: ${ROOT_PW}
olcDbDirectory: ${dir}/data
olcDbMaxSize: 67108864
olcAccess: to attrs=userPassword by anonymous auth by * none
olcAccess: to * by * read
`;
}

const baseLdif = `dn: ${SUFFIX}
objectClass: dcObject
objectClass: organization
dc: jitea
o: JITEA test

dn: ${PEOPLE}
objectClass: organizationalUnit
ou: people

dn: ${SYNC_DN}
objectClass: person
cn: jitea-sync
sn: sync
userPassword: ${SYNC_PW}

`;

/** An `inetOrgPerson` entry under `ou=people`. */
export function person(uid, department, title) {
  return `dn: uid=${uid},${PEOPLE}
objectClass: inetOrgPerson
uid: ${uid}
cn: ${uid}
sn: ${uid}-surname
givenName: ${uid}
displayName: ${uid} from the directory
mail: ${uid}@jitea.test
departmentNumber: ${department}
title: ${title}

`;
}

/** Starts slapd with the base tree plus `org` (LDIF) on a free plain-LDAP port. */
export async function startSlapd(org) {
  const dir = mkdtempSync(join(tmpdir(), 'jitea-e2e-slapd-'));
  mkdirSync(join(dir, 'slapd.d'));
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'config.ldif'), configLdif(dir));
  writeFileSync(join(dir, 'org.ldif'), baseLdif + org);
  execFileSync('/usr/sbin/slapadd', ['-n0', '-F', join(dir, 'slapd.d'), '-l', join(dir, 'config.ldif')], { stdio: 'pipe' });
  execFileSync('/usr/sbin/slapadd', ['-n1', '-F', join(dir, 'slapd.d'), '-l', join(dir, 'org.ldif')], { stdio: 'pipe' });
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  const child = spawn('/usr/sbin/slapd', ['-F', join(dir, 'slapd.d'), '-h', `${url}/`, '-d', '0'], { stdio: 'ignore' });
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      execFileSync('ldapsearch', ['-x', '-H', url, '-b', '', '-s', 'base', '-LLL'], { stdio: 'ignore' });
      break;
    } catch {
      if (Date.now() > deadline) throw new Error('slapd did not start within 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    /** JITEA settings for this directory (plain LDAP on loopback, allowed explicitly). */
    env: {
      JITEA_LDAP_URL: url,
      JITEA_LDAP_ALLOW_PLAIN: 'true',
      JITEA_LDAP_BIND_DN: SYNC_DN,
      JITEA_LDAP_BIND_PASSWORD: SYNC_PW,
      JITEA_LDAP_USER_BASE: PEOPLE,
      JITEA_LDAP_USER_FILTER: '(objectClass=inetOrgPerson)',
    },
    /** Removes an entry, as a leaver's account is removed from the directory. */
    remove(dn) {
      execFileSync('ldapdelete', ['-x', '-H', url, '-D', ROOT_DN, '-w', ROOT_PW, dn], { stdio: 'pipe' });
    },
    stop() {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * moto's server (PyPI moto[server], pinned by scripts/ensure_moto.sh) through
 * tests/moto_server.py, as the Rust harness starts it (tests/src/aws.rs), and AWS's own CLI
 * from the same venv to set IAM Identity Center up.
 */
export async function startMoto() {
  const out = execFileSync(join(REPO, 'scripts/ensure_moto.sh'), { stdio: ['ignore', 'pipe', 'inherit'] });
  const bin = out.toString().trim().split('\n').pop().trim();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(join(bin, 'python'), [join(REPO, 'tests/moto_server.py'), '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const creds = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };
  const aws = (...args) =>
    JSON.parse(
      execFileSync(join(bin, 'aws'), [...args, '--output', 'json'], {
        env: { ...process.env, ...creds, AWS_DEFAULT_REGION: 'us-east-1', AWS_ENDPOINT_URL: url, AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' },
        stdio: ['ignore', 'pipe', 'inherit'],
      }).toString() || 'null',
    );
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await fetch(`${url}/moto-api/`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error('moto_server did not start within 30 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    url,
    aws,
    /** What a JITEA server needs to reach this moto. */
    env: { ...creds, AWS_ENDPOINT_URL: url },
    stop() {
      child.kill('SIGKILL');
    },
  };
}
