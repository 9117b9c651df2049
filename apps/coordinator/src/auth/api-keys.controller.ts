import { Body, Controller, Delete, Get, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsIn, Matches } from 'class-validator';
import { ROLES, Role } from '@vfl/access';
import { ApiKeysService } from './api-keys.service';
import { CurrentPrincipal, Principal } from './principal';
import { Roles } from './roles.decorator';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'risk-team-ci' })
  @Matches(/^[A-Za-z0-9 _.@-]{1,64}$/, { message: 'name must be 1-64 letters, digits, spaces or _.@-' })
  name!: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: Role;
}

@ApiTags('api-keys')
@ApiBearerAuth()
@Roles('admin')
@Controller('api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @ApiOperation({ summary: 'Issue a key (the only time its secret is shown)' })
  create(@Body() dto: CreateApiKeyDto) {
    return this.keys.create(dto.name, dto.role);
  }

  @Get('me')
  @Roles('admin', 'operator', 'auditor')
  @ApiOperation({ summary: "The calling key's name and role (the dashboard shows the actions the role may take)" })
  me(@CurrentPrincipal() principal: Principal) {
    return { keyId: principal.keyId, name: principal.name, role: principal.role };
  }

  @Get()
  list() {
    return this.keys.list();
  }

  @Delete(':keyId')
  @ApiOperation({ summary: 'Revoke a key' })
  revoke(@Param('keyId') keyId: string) {
    return this.keys.revoke(keyId);
  }
}
