// The serialport packages' typings in one place. Their "exports" have no "types" entry: only the
// require-mode lookup finds them, and Biome cannot yet parse import attributes on type-only
// imports, so this file is the one Biome skips (biome.json).
import type { MockBindingInterface, MockPortBinding } from '@serialport/binding-mock' with { 'resolution-mode': 'require' };
import type {
  BindingInterface,
  BindingPortInterface,
  OpenOptions,
  PortInfo,
  PortStatus,
  SetOptions,
  UpdateOptions,
} from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };

export type {
  BindingInterface,
  BindingPortInterface,
  MockBindingInterface,
  MockPortBinding,
  OpenOptions,
  PortInfo,
  PortStatus,
  SetOptions,
  UpdateOptions,
};
